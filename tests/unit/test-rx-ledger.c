/* SPDX-License-Identifier: MIT */
/*
 * The rx ledger (daemon/rx_ledger.h) over rings in plain memory, laid out
 * as the kernel's: a commit, then a dmad killed at each point of the
 * commit's order (before the frames went back to the fill ring, before
 * the RX ring's consumer moved, after both), and the next dmad's restore
 * each time: the frames back exactly once, in order, the consumer at the
 * ledger's position, each flow where the ledger has it. And ledgers that
 * do not fit the rings, refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rx_ledger.h"
#include "rx_priv.h"
#include "tap.h"

#define C0    100u	 /* the RX ring's consumer before the batch */
#define BATCH 20u	 /* entries in the batch */
#define BAD   3u	 /* of them, with an address outside the UMEM */
#define PROD  (C0 + 40u) /* the kernel's producer */
#define FQ0   9000u	 /* the fill ring's producer before the batch */

struct rings {
	uint32_t rx_prod, rx_cons, fq_prod, fq_cons, flags;
	struct xdp_desc rx[RX_RING_SIZE];
	uint64_t fq[RX_FRAMES];
};

static struct rx_iface ifc = {.name = "test0"};

static uint64_t addr_of(uint32_t i)
{
	/* Every seventh is past the UMEM: a frame the batch never recycles. */
	return i % 7 == 0 ? RX_UMEM_LEN + i : (uint64_t)(i % RX_FRAMES) * RX_FRAME_SIZE + 256;
}

static void setup(struct rx_sock *s, struct rings *g, struct rx_flow *f)
{
	memset(g, 0, sizeof(*g));
	memset(s, 0, sizeof(*s));
	g->rx_cons = C0;
	g->rx_prod = PROD;
	g->fq_prod = FQ0;
	g->fq_cons = FQ0 - 100;
	for (uint32_t i = C0; i != PROD; i++)
		g->rx[i & (RX_RING_SIZE - 1)] = (struct xdp_desc){.addr = addr_of(i), .len = 60};
	s->ifc = &ifc;
	s->xsk_fd = -1;
	s->rx = (struct xsk_ring_cons){.cached_prod = PROD,
				       .cached_cons = C0, /* as at rx_sock_run() */
				       .mask = RX_RING_SIZE - 1,
				       .size = RX_RING_SIZE,
				       .producer = &g->rx_prod,
				       .consumer = &g->rx_cons,
				       .ring = g->rx,
				       .flags = &g->flags};
	s->fq = (struct xsk_ring_prod){.cached_prod = FQ0,
				       .cached_cons = g->fq_cons + RX_FRAMES,
				       .mask = RX_FRAMES - 1,
				       .size = RX_FRAMES,
				       .producer = &g->fq_prod,
				       .consumer = &g->fq_cons,
				       .ring = g->fq,
				       .flags = &g->flags};
	*f = (struct rx_flow){.id = 7, .published = 1234, .seq = 1300, .st = {.packets = 1234}};
	s->flows = f;
}

/* The batch's valid frames, as the rx thread recycles them: in ring order. */
static uint32_t batch_frames(uint64_t *out)
{
	uint32_t n = 0;

	for (uint32_t i = C0; i != C0 + BATCH; i++)
		if (addr_of(i) < RX_UMEM_LEN)
			out[n++] = addr_of(i);
	return n;
}

static void fill_ring_back(struct rings *g, const uint64_t *fr, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		g->fq[(FQ0 + i) & (RX_FRAMES - 1)] = fr[i];
	g->fq_prod = FQ0 + n;
}

static bool frames_at(const struct rings *g, const uint64_t *fr, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (g->fq[(FQ0 + i) & (RX_FRAMES - 1)] != fr[i])
			return false;
	return true;
}

int main(void)
{
	static struct rings g;
	struct rx_ledger *l = calloc(1, RX_LEDGER_LEN);
	uint64_t fr[BATCH];
	uint32_t nfr = batch_frames(fr);
	struct rx_flow_carried c;
	struct rx_flow f;
	struct rx_sock s;
	int r;

	if (!l)
		return tap_done();
	ok(nfr == BATCH - BAD, "the batch has %u valid frames of %u entries", nfr, BATCH);

	/* Killed after the ledger, before the frames went back. */
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s); /* as rx_sock_run(): at C0, nothing to give back */
	f.published = 1250, f.seq = 1320, f.st.packets = 1250;
	rx_ledger_commit(&s, C0 + BATCH, nfr);
	r = rx_ledger_restore(&s);
	ok(r == 0 && g.fq_prod == FQ0 + nfr && frames_at(&g, fr, nfr),
	   "killed before the frames went back: they go back, each once, in order (%d, %u)", r,
	   g.fq_prod - FQ0);
	ok(g.rx_cons == C0 + BATCH && s.rx.cached_cons == C0 + BATCH && s.rx.cached_prod == PROD,
	   "and the RX ring's consumer is past the batch (%u)", g.rx_cons);
	rx_ledger_flow(&s, 7, &c);
	ok(c.tail == 1250 && c.seq == 1320 && c.stats.packets == 1250,
	   "the flow resumes where the commit has it (%u, %u)", c.tail, c.seq);
	rx_ledger_flow(&s, 8, &c);
	ok(c.tail == 0 && c.seq == 0, "a flow the ledger lacks (made after it) starts at 0");
	free(s.restored);

	/* Killed after the frames went back, before the consumer moved. */
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	rx_ledger_commit(&s, C0 + BATCH, nfr);
	fill_ring_back(&g, fr, nfr);
	r = rx_ledger_restore(&s);
	ok(r == 0 && g.fq_prod == FQ0 + nfr && frames_at(&g, fr, nfr) && g.rx_cons == C0 + BATCH,
	   "killed before the consumer moved: no frame given back twice, the consumer moves "
	   "(%d, %u, %u)",
	   r, g.fq_prod - FQ0, g.rx_cons);
	free(s.restored);

	/* Killed after the whole commit. */
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	rx_ledger_commit(&s, C0 + BATCH, nfr);
	fill_ring_back(&g, fr, nfr);
	g.rx_cons = C0 + BATCH;
	r = rx_ledger_restore(&s);
	ok(r == 0 && g.fq_prod == FQ0 + nfr && g.rx_cons == C0 + BATCH,
	   "killed after the commit: nothing to finish (%d)", r);
	free(s.restored);

	/* Killed inside the ledger write: sel still names the snapshot before. */
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	rx_ledger_commit(&s, C0 + BATCH, nfr);
	l->sel = !l->sel;
	r = rx_ledger_restore(&s);
	rx_ledger_flow(&s, 7, &c);
	ok(r == 0 && g.fq_prod == FQ0 && g.rx_cons == C0 && c.tail == 1234,
	   "killed inside the ledger write: the batch is taken again from the start (%d, %u)", r,
	   g.rx_cons);
	free(s.restored);

	/* Ledgers that do not fit the rings. */
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	rx_ledger_commit(&s, PROD + 1, 0);
	ok(rx_ledger_restore(&s) == -EBADMSG && g.rx_cons == C0,
	   "a position past the kernel's producer: refused, the rings untouched");
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	rx_ledger_commit(&s, C0 + BATCH, nfr);
	g.fq_prod = FQ0 + 1;
	ok(rx_ledger_restore(&s) == -EBADMSG && g.fq_prod == FQ0 + 1 && g.rx_cons == C0,
	   "a fill ring producer that is neither of the ledger's: refused");
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	rx_ledger_commit(&s, C0 + BATCH, nfr + 1);
	ok(rx_ledger_restore(&s) == -EBADMSG && g.fq_prod == FQ0,
	   "a frame count the ring's entries do not give: refused");
	setup(&s, &g, &f);
	s.ledger = l;
	rx_ledger_begin(&s);
	l->magic = 0;
	ok(rx_ledger_restore(&s) == -EBADMSG, "no ledger (a UMEM's tail never written): refused");
	setup(&s, &g, &f);
	ok(rx_ledger_restore(&s) == -EBADMSG, "a UMEM without a ledger: refused");
	free(l);
	return tap_done();
}
