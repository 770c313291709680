/* SPDX-License-Identifier: MIT */
/*
 * `dmactl reset-failed [DEV]`: dmad forgets the devices it released
 * (removed, failed, gone) and the clients that disconnected, or DEV's
 * record alone, as `systemctl reset-failed` does for units. The totals keep their counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmad_proto.h"
#include "dmactl.h"

int reset_failed_main(struct dmactl *o, int argc, char **argv)
{
	struct dmad_proto_reset_failed_req req = {0};
	struct ctl_reply rep;
	struct ctl_conn *c;
	char *dev = NULL;
	unsigned n;
	int r;

	r = dmactl_args_upto(o, argc, argv, NULL, 0, 1, &dev, &n);
	if (r != DMACTL_CONTINUE)
		return r;
	if (n && (!*dev || strlen(dev) >= sizeof(req.name)))
		return dmactl_usage_error(o, "DEV must be 1 to %zu bytes", sizeof(req.name) - 1);
	if (n)
		memcpy(req.name, dev, strlen(dev));

	r = dmactl_call(o, DMAD_PROTO_RESET_FAILED, &req, sizeof(req), DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status == -ENOENT) {
		fprintf(stderr, "dmactl: no released device named %s (see dmactl status)\n", dev);
		r = DMACTL_EXIT_FAILED;
	} else if (rep.status < 0) {
		r = dmactl_refused(o, rep.status);
	}
	ctl_close(c);
	return r;
}
