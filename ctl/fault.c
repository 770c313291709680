/* SPDX-License-Identifier: MIT */
/*
 * `dmactl fault DEV hang`: make a device stop completing, as if unplugged,
 * to exercise the watchdog and the CPU redo path. dmad takes faults only
 * when started with --fault-injection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "json.h"

static const struct {
	const char *name;
	uint32_t fault;
} faults[] = {
	{"hang", DMAD_PROTO_FAULT_HANG},
};

static int explain(const struct dmactl *o, const char *name, int status)
{
	switch (status) {
	case -ENODEV:
		fprintf(stderr, "dmactl: no device named %s (see dmactl status)\n", name);
		return DMACTL_EXIT_FAILED;
	case -EPERM:
		/* A setting of the daemon, not the caller's credentials (those are EACCES). */
		fprintf(stderr,
			"dmactl: fault injection is off: start dmad with --fault-injection\n");
		return DMACTL_EXIT_FAILED;
	default:
		return dmactl_refused(o, status);
	}
}

int fault_main(struct dmactl *o, int argc, char **argv)
{
	struct dmad_proto_dev_fault_req req = {0};
	struct ctl_reply rep;
	struct ctl_conn *c;
	char *args[2];
	size_t i;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 2, args);
	if (r != DMACTL_CONTINUE)
		return r;
	if (!*args[0] || strlen(args[0]) >= sizeof(req.name))
		return dmactl_usage_error(o, "'%s' is not a device name (1 to %zu bytes)", args[0],
					  sizeof(req.name) - 1);
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (!strcmp(faults[i].name, args[1]))
			break;
	if (i == sizeof(faults) / sizeof(faults[0]))
		return dmactl_usage_error(o, "unknown fault '%s'", args[1]);
	memcpy(req.name, args[0], strlen(args[0]));
	req.fault = faults[i].fault;

	r = dmactl_call(o, DMAD_PROTO_DEV_FAULT, &req, sizeof(req), DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status < 0) {
		r = explain(o, args[0], rep.status);
	} else if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		json_string(&j, "device", args[0]);
		json_string(&j, "fault", faults[i].name);
		json_object_end(&j);
	} else {
		printf("injected %s into %s\n", faults[i].name, args[0]);
	}
	ctl_close(c);
	return r;
}
