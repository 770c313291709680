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

#include "status_reply.h"

/* HTTP's Content-Type for what om_render() writes. */
#define OM_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/*
 * om_render() - write @s (status_reply_parse()) to @f as OpenMetrics text: every counter as a
 * dmad_..._total counter, the rest as gauges, with # TYPE and # HELP,
 * labels device=, client=, chan=, and # EOF at the end. Names from the wire
 * are escaped, never trusted. Returns 0, or -EIO when @f failed.
 */
int om_render(FILE *f, const struct status_reply *s);

#endif /* DMAD_OPENMETRICS_H */
