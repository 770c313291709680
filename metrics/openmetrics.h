/* SPDX-License-Identifier: MIT */
/*
 * A STATUS reply as OpenMetrics text (the Prometheus exposition format's
 * standard form): what `dmactl metrics` prints and what dmad serves on
 * --metrics-listen, from one renderer. libc and proto/ only, so that both
 * dmactl (libc alone) and dmad can link it.
 */
#ifndef DMAD_OPENMETRICS_H
#define DMAD_OPENMETRICS_H

#include <stdint.h>
#include <stdio.h>

#include "dmad_proto.h"

/* What a STATUS body holds, its records located and counted. */
struct om_status {
	const struct dmad_proto_status *sum;
	const struct dmad_proto_dev_info *dev;
	const struct dmad_proto_client_info *client;
	const struct dmad_proto_chan_info *chan;
	const struct dmad_proto_quota *quota; /* NULL from a dmad before protocol 1.2 */
	uint32_t nquota;
	int log_level; /* -1 from a dmad before protocol 1.2 */
};

/* HTTP's Content-Type for what om_render() writes. */
#define OM_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/*
 * om_status_parse() - locate the records of the STATUS body @body of @len
 * bytes (8-byte aligned), checking every count against @len first.
 * Returns 0 with *ret filled (pointing into @body), or -EBADMSG.
 */
int om_status_parse(const void *body, uint32_t len, struct om_status *ret);

/*
 * om_render() - write @s to @f as OpenMetrics text: every counter as a
 * dmad_..._total counter, the rest as gauges, with # TYPE and # HELP,
 * labels device=, client=, chan=, and # EOF at the end. Names from the wire
 * are escaped, never trusted. Returns 0, or -EIO when @f failed.
 */
int om_render(FILE *f, const struct om_status *s);

#endif /* DMAD_OPENMETRICS_H */
