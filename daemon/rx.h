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
#include "handover_state.h"

/*
 * rx_open() - RX_OPEN: open a flow for @c; the reply carries its receive
 * area and eventfd. Returns 0, or the -errno to reply with: -EBADMSG,
 * -EINVAL (port 0, slot count, flags), -EMSGSIZE (slot too small or too
 * large), -EPROTONOSUPPORT (not UDP), -ENXIO (no such interface or queue),
 * -EADDRINUSE (the port has a flow on that interface, or, for a client
 * that is not an admin, a socket has it), -EACCES (a port
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

/*
 * rx_quiesce() - a restart hands the flows on (rx_handover.c): have every
 * socket's rx thread publish what it took and exit, while the workers still
 * run. A socket that does not within the bound has its flows closed.
 */
void rx_quiesce(void);

/*
 * rx_handover_count() - into @n, the rx interfaces, sockets and flows a
 * handover state holds: the flows of the @nc clients @cs (record order)
 * that go on. After rx_quiesce().
 */
void rx_handover_count(struct client *const *cs, uint32_t nc, struct handover_ext_counts *n);

/* rx_handover_save() - their records into @x, each fd through @add_fd,
 * which returns its fd table index. */
void rx_handover_save(struct client *const *cs, uint32_t nc, const struct handover_ext_view *x,
		      uint32_t (*add_fd)(void *ctx, uint32_t kind, int fd), void *ctx);

/*
 * rx_handover_restore() - the flows of the checked @x again, their fds in
 * @fds (taken); cs[i] is client record i's client, NULL if not restored.
 * A flow that cannot go on is told so through its area (-ENODEV to its
 * client). After the workers launched, before rx_sweep().
 */
void rx_handover_restore(const struct handover_ext_view *x, const struct handover_fd *fds,
			 struct client *const *cs);

/*
 * rx_restart_ended() - after a crash: did the restore fail to take one of
 * @c's flows back (or was the journal without flows)? Its RESTARTED event
 * then carries DMAD_PROTO_RESTARTED_RX_ENDED. After rx_handover_restore().
 */
bool rx_restart_ended(const struct client *c);

/*
 * rx_flow_fds() - the area memfd and eventfd of @c's open flow @flow_id,
 * as RX_OPEN's answer carries them: for that answer sent again
 * (client_replay.c). Returns 0, or -ENOENT when @c has no such flow.
 */
int rx_flow_fds(const struct client *c, uint32_t flow_id, int fds[2]);

#endif /* DMAD_DAEMON_RX_H */
