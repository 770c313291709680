/* SPDX-License-Identifier: MIT */
/*
 * Receive flows across a restart. The old dmad quiesces each AF_XDP socket
 * (its rx thread publishes what it took, lets every frame go back to the
 * fill ring, and exits) and hands on, as fds, each interface's bpf_link and
 * maps, each socket and its UMEM, each flow's area and eventfd, with where
 * each flow's records stand. Meanwhile the XDP program stays attached and
 * keeps steering into the socket's RX ring: what arrives while no dmad
 * reads waits there, and what finds the ring full is counted by the kernel
 * in the socket's drop statistics, which go on with the socket. The new
 * dmad maps the rings where the kernel left them, puts its own program in
 * the link's place and starts the rx threads: the client sees its records
 * continue, sequence numbers included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "dmad_xdp.skel.h"
#include "handover_live.h"
#include "log.h"
#include "rx.h"
#include "rx_ledger.h"
#include "rx_priv.h"

#define QUIESCE_WAIT_MS 2000

/*
 * After a crash, whose flows did not come back: their RESTARTED event says
 * so (DMAD_PROTO_RESTARTED_RX_ENDED), and every flow they opened before it
 * reads -ENODEV. Everyone's, when the journal carries no flow part at all
 * (a dmad that did not journal flows wrote it; it never numbered a flow).
 */
static struct {
	bool all;
	uint32_t *ids;
	uint32_t n;
} ended;

static void end_for(const struct client *c)
{
	uint32_t *t;

	if (!c || !handover_live_crashed())
		return;
	for (uint32_t i = 0; i < ended.n; i++)
		if (ended.ids[i] == c->id)
			return;
	t = realloc(ended.ids, (ended.n + 1) * sizeof(*t));
	if (!t) {
		ended.all = true;
		return;
	}
	ended.ids = t;
	ended.ids[ended.n++] = c->id;
}

bool rx_restart_ended(const struct client *c)
{
	if (!handover_live_crashed())
		return false;
	if (ended.all)
		return true;
	for (uint32_t i = 0; i < ended.n; i++)
		if (ended.ids[i] == c->id)
			return true;
	return false;
}

static bool all_quiesced(void)
{
	for (struct rx_sock *s = rx_socks; s; s = s->next)
		if (!__atomic_load_n(&s->quiesced, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

void rx_quiesce(void)
{
	const struct timespec ms = {0, 1000000};

	for (struct rx_sock *s = rx_socks; s; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->quiesce = true;
		pthread_mutex_unlock(&s->lock);
		rx_sock_kick(s);
	}
	/* The workers still run: what is on an engine lands within the bound. */
	for (int i = 0; !all_quiesced() && i < QUIESCE_WAIT_MS; i++)
		nanosleep(&ms, NULL);
	for (struct rx_sock *s = rx_socks; s; s = s->next) {
		if (__atomic_load_n(&s->quiesced, __ATOMIC_ACQUIRE)) {
			pthread_join(s->thread, NULL);
			s->started = false;
			continue;
		}
		/* Not handed on: its clients see their flows end, as before restarts kept them. */
		log_error("%s queue %u: copies did not complete in %d ms; its flows end",
			  s->ifc->name, s->queue, QUIESCE_WAIT_MS);
		for (struct rx_flow *f = rx_all_flows; f; f = f->next)
			if (f->sock == s)
				rx_flow_close(f);
	}
}

static uint32_t client_index(struct client *const *cs, uint32_t nc, const struct client *c)
{
	for (uint32_t i = 0; i < nc; i++)
		if (cs[i] == c)
			return i;
	return UINT32_MAX;
}

/* Does @f go on in the next dmad? In a planned restart, if its socket
 * quiesced; in the session journal (nothing quiesces), if it is open. */
static bool goes_on(struct rx_flow *f, struct client *const *cs, uint32_t nc)
{
	return !f->closing && (f->sock->quiesced || !f->sock->quiesce) &&
	       client_index(cs, nc, f->owner) != UINT32_MAX;
}

void rx_handover_count(struct client *const *cs, uint32_t nc, struct handover_ext_counts *n)
{
	n->nrxifs = n->nrxsocks = n->nrxflows = 0;
	for (struct rx_iface *ifc = rx_ifaces; ifc; ifc = ifc->next)
		ifc->ho_index = UINT32_MAX;
	for (struct rx_sock *s = rx_socks; s; s = s->next)
		s->ho_index = UINT32_MAX;
	for (struct rx_flow *f = rx_all_flows; f; f = f->next) {
		if (!goes_on(f, cs, nc))
			continue;
		n->nrxflows++;
		if (f->sock->ifc->ho_index == UINT32_MAX)
			f->sock->ifc->ho_index = n->nrxifs++;
		if (f->sock->ho_index == UINT32_MAX)
			f->sock->ho_index = n->nrxsocks++;
	}
}

void rx_handover_save(struct client *const *cs, uint32_t nc, const struct handover_ext_view *x,
		      uint32_t (*add_fd)(void *ctx, uint32_t kind, int fd), void *ctx)
{
	uint32_t nf = 0;

	((struct handover_ext *)x->e)->next_flow_id = rx_flow_last_id;
	for (struct rx_iface *ifc = rx_ifaces; ifc; ifc = ifc->next) {
		struct handover_rxif *r = (struct handover_rxif *)&x->rxifs[ifc->ho_index];

		if (ifc->ho_index == UINT32_MAX)
			continue;
		*r = (struct handover_rxif){
			.link = add_fd(ctx, HANDOVER_FD_BPF_LINK, ifc->link_fd),
			.flows_map = add_fd(ctx, HANDOVER_FD_BPF_MAP, ifc->map_fd[0]),
			.xsks_map = add_fd(ctx, HANDOVER_FD_BPF_MAP, ifc->map_fd[1]),
			.owner_map = add_fd(ctx, HANDOVER_FD_BPF_MAP, ifc->map_fd[2]),
			.mode = ifc->mode,
		};
		snprintf(r->name, sizeof(r->name), "%s", ifc->name);
	}
	for (struct rx_sock *s = rx_socks; s; s = s->next) {
		if (s->ho_index == UINT32_MAX)
			continue;
		*(struct handover_rxsock *)&x->rxsocks[s->ho_index] = (struct handover_rxsock){
			.iface = s->ifc->ho_index,
			.queue = s->queue,
			.xsk = add_fd(ctx, HANDOVER_FD_XSK, s->xsk_fd),
			.umem = add_fd(ctx, HANDOVER_FD_UMEM, s->umem_fd),
			.unmatched = s->quiesced ? s->unmatched : 0,
		};
	}
	for (struct rx_flow *f = rx_all_flows; f; f = f->next) {
		struct handover_rxflow *r;

		if (!goes_on(f, cs, nc))
			continue;
		r = (struct handover_rxflow *)&x->rxflows[nf++];
		*r = (struct handover_rxflow){
			.client = client_index(cs, nc, f->owner),
			.id = f->id,
			.sock = f->sock->ho_index,
			.port = f->port,
			.proto = f->proto,
			.slot_size = f->slot_size,
			.slot_count = f->slot_count,
			.copybreak = f->copybreak,
			.area = add_fd(ctx, HANDOVER_FD_RX_AREA, f->area_fd),
			.event = add_fd(ctx, HANDOVER_FD_RX_EVENT, f->efd),
			.drops_reported = f->drops_reported,
		};
		/* The rx thread runs while the journal is written: where the flow
		 * stands is the ledger's to say (rx_ledger.h), not this record's. */
		if (f->sock->quiesced) {
			r->tail = f->published;
			r->seq = f->seq;
			r->stats = f->st;
		}
	}
}

/* Tell the client of a flow that cannot go on, through what it maps. */
static void flow_dead(int area_fd, int efd)
{
	uint64_t one = 1;
	struct dmad_rx_area *a =
		mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE, MAP_SHARED, area_fd, 0);

	if (a != MAP_FAILED) {
		__atomic_fetch_or(&a->flags, DMAD_RX_F_DEAD, __ATOMIC_SEQ_CST);
		munmap(a, sizeof(*a));
	}
	(void)!write(efd, &one, sizeof(one));
	close(area_fd);
	close(efd);
}

static struct rx_iface **restore_ifaces(const struct handover_ext_view *x,
					const struct handover_fd *fds)
{
	struct rx_iface **ifs = calloc(x->e->nrxifs + 1, sizeof(*ifs));

	for (uint32_t i = 0; i < x->e->nrxifs; i++) {
		const struct handover_rxif *r = &x->rxifs[i];
		int ret;

		if (!ifs) {
			close(fds[r->link].fd);
			close(fds[r->flows_map].fd);
			close(fds[r->xsks_map].fd);
			close(fds[r->owner_map].fd);
			continue;
		}
		ret = rx_iface_adopt(r->name, r->mode, fds[r->link].fd, fds[r->flows_map].fd,
				     fds[r->xsks_map].fd, fds[r->owner_map].fd, &ifs[i]);
		if (ret < 0)
			log_error_errno(ret,
					"%s: cannot take its XDP program over: %m; its flows end",
					r->name);
	}
	return ifs;
}

static struct rx_sock **restore_socks(const struct handover_ext_view *x,
				      const struct handover_fd *fds, struct rx_iface **ifs)
{
	struct rx_sock **socks = calloc(x->e->nrxsocks + 1, sizeof(*socks));

	for (uint32_t i = 0; i < x->e->nrxsocks; i++) {
		const struct handover_rxsock *r = &x->rxsocks[i];
		struct rx_iface *ifc = ifs ? ifs[r->iface] : NULL;
		int ret;

		if (!socks || !ifc) {
			close(fds[r->xsk].fd);
			close(fds[r->umem].fd);
			continue;
		}
		ifc->nsocks++; /* the socket's */
		ret = rx_sock_adopt(ifc, r->queue, fds[r->xsk].fd, fds[r->umem].fd, r->unmatched,
				    &socks[i]);
		if (ret < 0) {
			log_error_errno(ret,
					"%s queue %u: cannot take its AF_XDP socket over: %m; "
					"its flows end",
					ifc->name, r->queue);
			continue;
		}
		/* After a crash the rx thread's own record says where it stood. */
		ret = handover_live_crashed() ? rx_ledger_restore(socks[i]) : 0;
		if (ret < 0) {
			log_error_errno(ret, "%s queue %u: cannot resume its flows: %m; they end",
					ifc->name, r->queue);
			rx_sock_put(socks[i]);
			socks[i] = NULL;
		}
	}
	return socks;
}

static bool restore_flow(const struct handover_rxflow *r, const struct handover_fd *fds,
			 struct client *c, struct rx_sock *s)
{
	struct rx_flow_carried carried = {
		.id = r->id,
		.port = r->port,
		.proto = r->proto,
		.slot_size = r->slot_size,
		.slot_count = r->slot_count,
		.copybreak = r->copybreak,
		.tail = r->tail,
		.seq = r->seq,
		.drops_reported = r->drops_reported,
		.stats = r->stats,
	};
	struct rx_flow *f;
	int ret;

	if (!c || c->closing || !s) {
		flow_dead(fds[r->area].fd, fds[r->event].fd);
		end_for(c);
		return false;
	}
	/* After a crash the journal's positions are stale: the ledger's. */
	if (handover_live_crashed())
		rx_ledger_flow(s, r->id, &carried);
	s->nflows++; /* the flow's */
	ret = rx_flow_adopt(c, s, &carried, fds[r->area].fd, fds[r->event].fd, &f);
	if (ret < 0) {
		log_error_errno(ret, "client %u: cannot take flow %u over: %m; it ends", c->id,
				r->id);
		end_for(c);
	}
	return ret == 0;
}

void rx_handover_restore(const struct handover_ext_view *x, const struct handover_fd *fds,
			 struct client *const *cs)
{
	struct rx_iface **ifs;
	struct rx_sock **socks;
	uint32_t restored = 0;

	ended.all = handover_live_crashed() && !x->e->next_flow_id;
	if (!x->e->nrxifs && !x->e->nrxflows)
		return;
	rx_lib_log();
	if (x->e->next_flow_id > rx_flow_last_id)
		rx_flow_last_id = x->e->next_flow_id;
	ifs = restore_ifaces(x, fds);
	socks = restore_socks(x, fds, ifs);
	for (uint32_t i = 0; i < x->e->nrxflows; i++)
		restored += restore_flow(&x->rxflows[i], fds, cs[x->rxflows[i].client],
					 socks ? socks[x->rxflows[i].sock] : NULL);
	/* Its flows are there: the thread may take what waited in the ring. */
	for (uint32_t i = 0; socks && i < x->e->nrxsocks; i++) {
		int ret;

		if (!socks[i] || socks[i]->nflows == 1)
			continue;
		ret = rx_sock_run(socks[i]);
		if (ret < 0) {
			log_error_errno(
				ret, "%s queue %u: cannot start its rx thread: %m; its flows end",
				socks[i]->ifc->name, socks[i]->queue);
			for (struct rx_flow *f = rx_all_flows; f; f = f->next)
				if (f->sock == socks[i]) {
					rx_flow_close(f);
					end_for(f->owner);
				}
		}
	}
	/* The restore's own references: what no flow took goes now. */
	for (uint32_t i = 0; socks && i < x->e->nrxsocks; i++)
		if (socks[i])
			rx_sock_put(socks[i]);
	for (uint32_t i = 0; ifs && i < x->e->nrxifs; i++) {
		if (!ifs[i])
			continue;
		if (ifs[i]->nsocks > 1)
			rx_iface_prune(ifs[i]);
		rx_iface_put(ifs[i]);
	}
	log_info("rx: %u of %u flow(s) taken over", restored, x->e->nrxflows);
	free(socks);
	free(ifs);
}
