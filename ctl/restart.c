/* SPDX-License-Identifier: MIT */
/*
 * `dmactl restart`: dmad execs its binary in place (an upgrade installed at
 * its path runs) and hands every session to it; clients see a stall and a
 * RESTARTED event, nothing else. dmactl's own connection is one of those
 * sessions: it returns once the new dmad has restored it, and prints how
 * long that took.
 */
#include <errno.h>
#include <stdio.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "json.h"
#include "transport.h"

/* The new dmad starts EAL and its engines before it restores sessions. */
#define RESTART_WAIT_MS 60000

int restart_main(struct dmactl *o, int argc, char **argv)
{
	struct dmad_proto_event ev;
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 0, NULL);
	if (r != DMACTL_CONTINUE)
		return r;
	r = dmactl_call(o, DMAD_PROTO_RESTART, NULL, 0, DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	switch (rep.status) {
	case 0:
		break;
	case -EBUSY:
		ctl_close(c);
		fprintf(stderr, "dmactl: a removal is draining: restart once it is done\n");
		return DMACTL_EXIT_FAILED;
	case -ENOEXEC:
		ctl_close(c);
		fprintf(stderr, "dmactl: dmad cannot exec its binary (see its log)\n");
		return DMACTL_EXIT_FAILED;
	default:
		ctl_close(c);
		return dmactl_refused(o, rep.status);
	}
	r = ctl_wait_event(c, DMAD_PROTO_EV_RESTARTED, RESTART_WAIT_MS, &ev);
	ctl_close(c);
	if (r < 0) {
		fprintf(stderr,
			"dmactl: dmad did not come back with the sessions (%s): see its log\n",
			r == -ECONNRESET ? "it closed them" : "no word from it");
		return DMACTL_EXIT_FAILED;
	}
	if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		json_u64(&j, "stall_us", ev.stall_us);
		json_object_end(&j);
	} else {
		printf("dmad restarted: sessions resumed after %llu us\n",
		       (unsigned long long)ev.stall_us);
	}
	return DMACTL_EXIT_OK;
}
