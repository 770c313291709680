/* SPDX-License-Identifier: MIT */
/*
 * The rx ledger (rx_ledger.h): committed by the rx thread in crash-safe
 * mode, read back by the next dmad after a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "rx_ledger.h"
#include "rx_priv.h"

void rx_ledger_begin(struct rx_sock *s)
{
	s->ledger->magic = RX_LEDGER_MAGIC;
	s->ledger->version = RX_LEDGER_VERSION;
	rx_ledger_commit(s, s->rx.cached_cons, 0);
}

void rx_ledger_commit(struct rx_sock *s, uint32_t rx_pos, uint32_t nframes)
{
	struct rx_ledger *l = s->ledger;
	unsigned k = !l->sel;
	struct rx_ledger_snap *n = &l->snap[k];
	uint32_t i = 0;

	n->rx_pos = rx_pos;
	n->fq_before = s->fq.cached_prod;
	n->fq_after = s->fq.cached_prod + nframes;
	n->unmatched = s->unmatched;
	n->commits = l->snap[!k].commits + 1;
	for (struct rx_flow *f = s->flows; f && i < RX_LEDGER_FLOWS; f = f->snext, i++)
		n->flow[i] = (struct rx_ledger_flow){
			.id = f->id, .tail = f->published, .seq = f->seq, .st = f->st};
	n->nflows = i;
	/* The snapshot is whole before sel names it: a dmad killed before
	 * this store leaves the other one, whole too. */
	__atomic_store_n(&l->sel, k, __ATOMIC_RELEASE);
}

/* The valid frames of RX ring entries [@from, @to) back to the fill ring:
 * what the dead dmad's last commit had still to do. */
static int refill(struct rx_sock *s, uint32_t from, uint32_t to, uint32_t want)
{
	uint32_t idx = 0, n = 0;

	for (uint32_t i = from; i != to; i++)
		n += xsk_ring_cons__rx_desc(&s->rx, i)->addr < RX_UMEM_LEN;
	if (n != want || xsk_ring_prod__reserve(&s->fq, n, &idx) != n)
		return -EBADMSG;
	for (uint32_t i = from; i != to; i++) {
		uint64_t a = xsk_ring_cons__rx_desc(&s->rx, i)->addr;

		if (a < RX_UMEM_LEN)
			*xsk_ring_prod__fill_addr(&s->fq, idx++) = a;
	}
	xsk_ring_prod__submit(&s->fq, n);
	if (xsk_ring_prod__needs_wakeup(&s->fq))
		recvfrom(s->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return 0;
}

int rx_ledger_restore(struct rx_sock *s)
{
	const struct rx_ledger *l = s->ledger;
	struct rx_ledger_snap *n;
	uint32_t cons, prod, fq, sel;
	int ret;

	if (!l || l->magic != RX_LEDGER_MAGIC || l->version != RX_LEDGER_VERSION ||
	    (sel = __atomic_load_n(&l->sel, __ATOMIC_ACQUIRE)) > 1)
		return -EBADMSG;
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	memcpy(n, &l->snap[sel], sizeof(*n));
	/* The kernel still produces into the RX ring; only we move the rest. */
	cons = *s->rx.consumer;
	prod = __atomic_load_n(s->rx.producer, __ATOMIC_ACQUIRE);
	fq = *s->fq.producer;
	ret = -EBADMSG;
	if (n->nflows > RX_LEDGER_FLOWS || prod - cons > RX_RING_SIZE ||
	    n->rx_pos - cons > prod - cons)
		goto fail;
	if (fq == n->fq_before && n->fq_after != n->fq_before)
		ret = refill(s, cons, n->rx_pos, n->fq_after - n->fq_before);
	else if (fq == n->fq_after)
		ret = 0;
	if (ret < 0)
		goto fail;
	/* What the dead dmad committed is behind the consumer now. */
	__atomic_store_n(s->rx.consumer, n->rx_pos, __ATOMIC_RELEASE);
	s->rx.cached_cons = n->rx_pos;
	s->rx.cached_prod = prod;
	s->unmatched = n->unmatched;
	s->restored = n;
	if (n->rx_pos != cons || fq != n->fq_after)
		log_info("%s queue %u: finished the dead dmad's last rx commit (%u datagram "
			 "entries, %u frames)",
			 s->ifc->name, s->queue, n->rx_pos - cons, n->fq_after - n->fq_before);
	return 0;
fail:
	log_error("%s queue %u: the rx ledger does not fit the socket's rings (consumer %u, "
		  "producer %u, ledger at %u; fill ring %u, ledger %u..%u)",
		  s->ifc->name, s->queue, cons, prod, n->rx_pos, fq, n->fq_before, n->fq_after);
	free(n);
	return ret;
}

void rx_ledger_flow(const struct rx_sock *s, uint32_t id, struct rx_flow_carried *c)
{
	c->tail = c->seq = 0;
	memset(&c->stats, 0, sizeof(c->stats));
	for (uint32_t i = 0; s->restored && i < s->restored->nflows; i++) {
		const struct rx_ledger_flow *f = &s->restored->flow[i];

		if (f->id == id) {
			c->tail = f->tail;
			c->seq = f->seq;
			c->stats = f->st;
		}
	}
}
