/* SPDX-License-Identifier: MIT */
/*
 * `dmactl metrics`: one STATUS request, printed as OpenMetrics text by the
 * renderer dmad's --metrics-listen endpoint serves too (metrics/), for a
 * node_exporter textfile or a scrape through a wrapper.
 */
#include <stdio.h>

#include "dmactl.h"
#include "openmetrics.h"

int metrics_main(struct dmactl *o, int argc, char **argv)
{
	struct status_reply s;
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 0, NULL);
	if (r != DMACTL_CONTINUE)
		return r;
	r = dmactl_request(o, DMAD_PROTO_STATUS, NULL, 0, DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (status_reply_parse(rep.body, rep.len, &s) < 0) {
		fprintf(stderr, "dmactl: bad status reply from dmad at %s (%u bytes)\n", o->socket,
			rep.len);
		ctl_close(c);
		return DMACTL_EXIT_FAILED;
	}
	om_render(stdout, &s);
	/* On stderr: a scraper reads stdout, and OpenMetrics has no room for it. */
	if (s.sum->flags & DMAD_PROTO_LIST_OWN_ONLY)
		fprintf(stderr, "dmactl: note: other clients are shown to admins only "
				"(" DMACTL_ADMIN_WHO ")\n");
	ctl_close(c);
	return DMACTL_EXIT_OK;
}
