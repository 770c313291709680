/* SPDX-License-Identifier: MIT */
/*
 * --metrics-listen: the STATUS counters as OpenMetrics text (metrics/) for
 * GET /metrics over HTTP/1.0, on a unix socket or a loopback TCP port,
 * served from the control loop. Every read and write is non-blocking and
 * driven by control_watch(); a scraper that stalls is cut off after 5 s.
 */
#ifndef DMAD_METRICS_HTTP_H
#define DMAD_METRICS_HTTP_H

/*
 * metrics_listen() - listen at @spec: "unix:PATH", "127.0.0.1:PORT" (any
 * 127/8 address) or "[::1]:PORT"; any other address is refused, as the
 * text names every client. Before control_run(). Returns 0 or a negative
 * errno, logged.
 */
int metrics_listen(const char *spec);

/* metrics_start() - start accepting; from control_run() once its loop is up. */
void metrics_start(void);

/* metrics_tick() - cut off scrapers that take too long. Control tick. */
void metrics_tick(void);

/* metrics_shutdown() - close every connection and the listener; after
 * control_shutdown(), when no watch can fire any more. Accepts none open. */
void metrics_shutdown(void);

#endif /* DMAD_METRICS_HTTP_H */
