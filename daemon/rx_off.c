/* SPDX-License-Identifier: MIT */
/*
 * Receive offload left out of the build (-Drx=disabled, or no clang,
 * bpftool, libbpf or libxdp): every flow request is answered with
 * -EOPNOTSUPP, which tells a client "not in this dmad" rather than a
 * problem with its spec, its interface or its rights. Nothing else in
 * dmad changes: there is never a flow to close, reap or move.
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "handover_live.h"
#include "rx.h"

int rx_open(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)c, (void)rq, (void)rep;
	return -EOPNOTSUPP;
}

int rx_close(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)c, (void)rq, (void)rep;
	return -EOPNOTSUPP;
}

int rx_flows(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)c, (void)rq, (void)rep;
	return -EOPNOTSUPP;
}

void rx_client_close(struct client *c)
{
	(void)c;
}

bool rx_reap(struct client *c)
{
	(void)c;
	return true;
}

void rx_drops_report(void)
{
}

void rx_sweep(void)
{
}

void rx_shutdown(void)
{
}

void rx_quiesce(void)
{
}

void rx_handover_count(struct client *const *cs, uint32_t nc, struct handover_ext_counts *n)
{
	(void)cs, (void)nc;
	n->nrxifs = n->nrxsocks = n->nrxflows = 0;
}

void rx_handover_save(struct client *const *cs, uint32_t nc, const struct handover_ext_view *x,
		      uint32_t (*add_fd)(void *ctx, uint32_t kind, int fd), void *ctx)
{
	(void)cs, (void)nc, (void)x, (void)add_fd, (void)ctx;
}

/* Flows from a dmad with receive offload: this one cannot serve them. */
void rx_handover_restore(const struct handover_ext_view *x, const struct handover_fd *fds,
			 struct client *const *cs)
{
	(void)cs;
	for (uint32_t i = 0; i < x->e->nrxifs; i++) {
		close(fds[x->rxifs[i].link].fd);
		close(fds[x->rxifs[i].flows_map].fd);
		close(fds[x->rxifs[i].xsks_map].fd);
		close(fds[x->rxifs[i].owner_map].fd);
	}
	for (uint32_t i = 0; i < x->e->nrxsocks; i++) {
		close(fds[x->rxsocks[i].xsk].fd);
		close(fds[x->rxsocks[i].umem].fd);
	}
	for (uint32_t i = 0; i < x->e->nrxflows; i++) {
		close(fds[x->rxflows[i].area].fd);
		close(fds[x->rxflows[i].event].fd);
	}
}

int rx_flow_fds(const struct client *c, uint32_t flow_id, int fds[2])
{
	(void)c;
	(void)flow_id;
	(void)fds;
	return -ENOENT;
}

/* No flow here: after a crash, any a client had opened is gone. */
bool rx_restart_ended(const struct client *c)
{
	(void)c;
	return handover_live_crashed();
}
