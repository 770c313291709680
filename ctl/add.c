/* SPDX-License-Identifier: MIT */
/*
 * `dmactl add DEVARGS`: dmad probes the device and brings the channels that
 * were copying with the CPU back onto it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"

static int explain(const struct dmactl *o, const char *devargs, const struct ctl_reply *rep)
{
	char buf[DMAD_PROTO_ERROR_MAX];
	const char *why = dmactl_reason(rep, buf);
	int status = rep->status;

	switch (status) {
	case -EACCES:
		return dmactl_refused(o, status);
	case -EEXIST:
		fprintf(stderr, "dmactl: cannot add %s: already present\n", devargs);
		return DMACTL_EXIT_FAILED;
	case -ENODEV:
		/* What DPDK said, when dmad passes it on: the probe's own reason. */
		fprintf(stderr, "dmactl: cannot add %s: probe found no usable DMA device%s%s\n",
			devargs, why ? ": " : "", why ? why : "");
		return DMACTL_EXIT_FAILED;
	default:
		/* Whatever the probe said: a driver it does not know, a bad address.
		 * Even EPERM is the probe's, not the caller's credentials (EACCES). */
		fprintf(stderr, "dmactl: cannot add %s: %s%s%s\n", devargs, strerror(-status),
			why ? ": " : "", why ? why : "");
		return DMACTL_EXIT_FAILED;
	}
}

int add_main(struct dmactl *o, int argc, char **argv)
{
	struct dmad_proto_dev_add_req req = {0};
	const struct dmad_proto_dev_add_rep *a;
	char name[CELL_MAX], *devargs;
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 1, &devargs);
	if (r != DMACTL_CONTINUE)
		return r;
	/* The daemon takes DEVARGS NUL-terminated within its field, never cut. */
	if (!*devargs || strlen(devargs) >= sizeof(req.devargs))
		return dmactl_usage_error(o, "DEVARGS must be 1 to %zu bytes",
					  sizeof(req.devargs) - 1);
	memcpy(req.devargs, devargs, strlen(devargs));

	r = dmactl_call(o, DMAD_PROTO_DEV_ADD, &req, sizeof(req), DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	a = rep.body;
	if (rep.status < 0) {
		r = explain(o, devargs, &rep);
	} else if (rep.len < sizeof(*a)) {
		fprintf(stderr, "dmactl: bad add reply from dmad at %s: %u bytes, %zu needed\n",
			o->socket, rep.len, sizeof(*a));
		r = DMACTL_EXIT_FAILED;
	} else if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		json_stringn(&j, "added", a->name, sizeof(a->name));
		json_u64(&j, "moved", a->moved);
		json_object_end(&j);
	} else {
		fmt_name(name, a->name, sizeof(a->name));
		printf("added %s; %" PRIu32 " channel(s) moved back from CPU fallback\n", name,
		       a->moved);
	}
	ctl_close(c);
	return r;
}
