/* SPDX-License-Identifier: MIT */
/*
 * Monitors: connections that asked MONITOR and get a record of every event
 * (events.h) as it happens, for `dmactl monitor`. A monitor that reads
 * slowly, or not at all, never holds up the control thread: its socket
 * buffer is its bounded queue, and what does not fit is counted and
 * reported as one LOST record once there is room again.
 */
#ifndef DMAD_MONITOR_H
#define DMAD_MONITOR_H

struct client;
struct client_req;
struct client_rep;

/* monitor_init() - subscribe to events.h. Once, at start. 0 or -ENOSPC. */
int monitor_init(void);

/* monitor_start() - MONITOR: @c gets monitor events from its reply on.
 * Returns 0, or -EALREADY when it already does. */
int monitor_start(struct client *c, const struct client_req *rq, struct client_rep *rep);

/* monitor_tick() - from the control loop's tick: report losses that could
 * not be reported yet, and receive flows' drops, at most once a second. */
void monitor_tick(void);

#endif /* DMAD_MONITOR_H */
