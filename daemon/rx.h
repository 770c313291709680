/* SPDX-License-Identifier: MIT */
/*
 * Network receive offload (net_dma in userspace): a client's UDP flow is
 * received on an AF_XDP socket and each payload copied into the client's
 * receive area by a DMA engine. Everything here runs on the control thread.
 */
#ifndef DMAD_DAEMON_RX_H
#define DMAD_DAEMON_RX_H

#include <stdbool.h>

#include "client.h"

/*
 * rx_open() - RX_OPEN: open a flow for @c; the reply carries its receive
 * area and eventfd. Returns 0, or the -errno to reply with: -EBADMSG,
 * -EINVAL (port 0, slot count, flags), -EMSGSIZE (slot too small or too
 * large), -EPROTONOSUPPORT (not UDP), -ENXIO (no such interface or queue),
 * -EADDRINUSE (the port has a flow on that interface), -EACCES (a port
 * below 1024 without the admin credential), -EDQUOT (too many flows, or an
 * area over DMAD_RX_AREA_MAX), -EPERM (dmad lacks CAP_NET_ADMIN/CAP_BPF),
 * -ENOMEM, or what the kernel said.
 */
int rx_open(struct client *c, const struct client_req *rq, struct client_rep *rep);

/* rx_close() - RX_CLOSE. Returns 0, -EINVAL (not @c's flow). */
int rx_close(struct client *c, const struct client_req *rq, struct client_rep *rep);

/* rx_flows() - FLOWS: open flows with their counters; an admin's every one, else its own. */
int rx_flows(struct client *c, const struct client_req *rq, struct client_rep *rep);

/* rx_client_close() - @c is going away: close its flows (freed by rx_reap()). */
void rx_client_close(struct client *c);

/*
 * rx_reap() - free @c's closed flows whose copies have all landed. Returns
 * true when @c has no flow left. Periodic, from client_reap().
 */
bool rx_reap(struct client *c);

/* rx_drops_report() - an EVENT_FLOW_DROPS for each flow that dropped
 * datagrams since the last call. Control thread, from the tick. */
void rx_drops_report(void);

/*
 * rx_sweep() - at start-up: route libbpf's and libxdp's messages to the log,
 * and remove dmad XDP programs whose owner is gone.
 */
void rx_sweep(void);

/*
 * rx_shutdown() - close every flow and wait (bounded) for its copies, while
 * the workers still run; detaches every XDP program.
 */
void rx_shutdown(void);

#endif /* DMAD_DAEMON_RX_H */
