/* SPDX-License-Identifier: MIT */
/*
 * Deficit round robin in bytes (Shreedhar and Varghese), one round per
 * worker pass over a device's channels: on its turn a channel earns its
 * quantum (weight * QUANTUM_UNIT bytes) and takes descriptors from the head
 * of its ring while the next one fits in what it has earned. Bytes, not
 * descriptors: a 64 B copy and a 1 MiB one are not the same work. Only ever
 * the head of a ring: a channel's descriptors are taken, and so complete,
 * in cookie order; one that may not go yet just stays in its ring.
 *
 * An engine completes in order, so what one channel has queued on it delays
 * everyone after. While more than one channel has had work in the last
 * HOLD, each may keep at most its weight's share of the engine's fifo
 * slots and of SHARED_BYTES on it; a lone channel keeps the whole engine.
 * A rate-limited channel (rate.h) takes nothing while its buckets are empty.
 */
#include <rte_common.h>
#include <rte_cycles.h>

#include "fair.h"
#include "worker.h"

/* Bytes a channel earns per turn per unit of weight: 25.6 KiB by default. */
#define QUANTUM_UNIT 256
/* What all channels together may keep on a shared engine: enough to keep a
 * software engine busy for some 30 us, while a depth-1 neighbour waits
 * behind no more than that. */
#define SHARED_BYTES (256u << 10)
/* A channel that had work this recently still counts as sharing: a
 * depth-1 client has nothing queued between a completion and its next
 * copy, and must not let a greedy neighbour fill the engine meanwhile. */
#define HOLD_NS 10000000u

/* HOLD_NS in TSC ticks: set by fair_init() before the workers start. */
static uint64_t hold_tsc;

void fair_init(void)
{
	hold_tsc = rte_get_tsc_hz() * HOLD_NS / NS_PER_S;
}

static inline uint32_t weight_of(const struct chan *ch)
{
	return __atomic_load_n(&ch->weight, __ATOMIC_RELAXED);
}

/* Tokens the channel's limits allow now: UINT64_MAX without one, 0 when held. */
static uint64_t tokens(struct chan *ch, uint64_t now, uint64_t *resume)
{
	uint64_t allow = UINT64_MAX;

	for (unsigned i = 0; i < RTE_DIM(ch->rate); i++) {
		struct rate *r = __atomic_load_n(&ch->rate[i], __ATOMIC_ACQUIRE);
		int64_t t;

		if (!r)
			continue;
		if (!rate_ready(r, now)) {
			uint64_t at = rate_resume_tsc(r, now);

			if (!*resume || (int64_t)(at - *resume) < 0)
				*resume = at;
			return 0;
		}
		t = __atomic_load_n(&r->tokens, __ATOMIC_RELAXED);
		if (__atomic_load_n(&r->bps, __ATOMIC_RELAXED) && (uint64_t)t < allow)
			allow = (uint64_t)t;
	}
	return allow;
}

static void charge(struct chan *ch, uint64_t bytes)
{
	for (unsigned i = 0; i < RTE_DIM(ch->rate); i++) {
		struct rate *r = __atomic_load_n(&ch->rate[i], __ATOMIC_ACQUIRE);

		if (r)
			rate_take(r, bytes);
	}
}

bool fair_held(struct chan *ch, uint64_t now)
{
	uint64_t resume = 0;

	return (ch->rate[0] || ch->rate[1]) && !tokens(ch, now, &resume);
}

struct round {
	uint64_t now;
	uint64_t wsum;	   /* weights of the channels sharing the engine */
	unsigned nactive;  /* how many share it */
	uint64_t short_by; /* fewest quanta a channel lacked for its head; 0: none did */
	uint64_t *resume;
};

/* The head lacks @need bytes of credit: note how many quanta would do. */
static void short_of(struct round *r, uint64_t need, int64_t deficit, uint64_t quantum)
{
	uint64_t lack = (need - (uint64_t)deficit + quantum - 1) / quantum;

	if (!r->short_by || lack < r->short_by)
		r->short_by = lack;
}

/* One channel's turn, earning @mult quanta. Returns the descriptors taken,
 * or 1 for chunks of a copy (worker_chunk_head()) when none was. */
static unsigned visit(struct device *d, struct chan *ch, struct round *r, uint64_t mult)
{
	uint32_t avail = ch->faulted ? 0 : dmad_ring_cons_avail(ch->ring, ch->head);
	uint64_t w = weight_of(ch), quantum = w * QUANTUM_UNIT;
	struct worker_take lim = {.descs = UINT32_MAX};
	unsigned n, chunks = 0;
	int c = 0;

	if (!avail) {
		/* DRR: an empty queue keeps no credit. */
		ch->deficit = 0;
		return 0;
	}
	lim.tokens = tokens(ch, r->now, r->resume);
	if (!lim.tokens)
		return 0;
	if (r->nactive > 1) {
		uint64_t slots = (uint64_t)(d->fifo_mask + 1) * w / r->wsum;
		uint64_t bytes = (uint64_t)SHARED_BYTES * w / r->wsum;

		/* Its share, and never less than one descriptor at a time. */
		if (ch->inflight >= RTE_MAX(slots, 1ul) || ch->inflight_bytes >= bytes) {
			ch->deficit = RTE_MIN(ch->deficit, (int64_t)quantum);
			return 0;
		}
		lim.descs = (uint32_t)(RTE_MAX(slots, 1ul) - ch->inflight);
		lim.tokens = RTE_MIN(lim.tokens, bytes - ch->inflight_bytes);
	}
	ch->deficit += (int64_t)(mult * quantum);
	lim.deficit = ch->deficit;
	/* Copies inline, shared, or a fill the worker makes: a large head
	 * goes a piece at a time, as many as its credit covers, so that its
	 * neighbours' turns come. */
	while ((c = worker_chunk_head(d, ch, &lim, r->nactive > 1)) > 0)
		chunks++;
	if (c < 0) {
		ch->deficit = lim.deficit;
		if (!chunks)
			short_of(r, lim.need, lim.deficit, quantum);
		return chunks > 0;
	}
	n = worker_poll_chan(d, ch, false, &lim);
	/* The chunked head was not taken: its chunks' credit goes back, and
	 * what it lacks is its rest. */
	lim.deficit -= lim.done;
	if (lim.need > lim.done)
		lim.need -= lim.done;
	/* Done already (the CPU engine): its client need not wait for the
	 * copies of the channels after it in this round. */
	if (n)
		worker_retire_inline(d);
	charge(ch, lim.bytes);
	ch->deficit = lim.deficit;
	if (n == avail) {
		ch->deficit = 0;
	} else if (lim.need) {
		short_of(r, lim.need, lim.deficit, quantum);
	} else {
		/* Stopped by its share, its rate or the room: no credit banked. */
		ch->deficit = RTE_MIN(ch->deficit, (int64_t)quantum);
	}
	return n + (!n && chunks);
}

unsigned fair_serve(struct device *d, const struct chan_array *a, uint64_t now,
		    uint64_t *ret_resume)
{
	struct round r = {.now = now, .resume = ret_resume};
	uint32_t start = d->rr++;
	unsigned work = 0;

	for (uint32_t i = 0; i < a->n; i++) {
		struct chan *ch = a->c[i];

		if (ch->inflight || (!ch->faulted && dmad_ring_cons_avail(ch->ring, ch->head)))
			ch->active_tsc = now;
		if (ch->active_tsc && now - ch->active_tsc < hold_tsc) {
			r.wsum += weight_of(ch);
			r.nactive++;
		}
	}
	for (uint32_t i = 0; i < a->n; i++)
		work += visit(d, a->c[(start + i) % a->n], &r, 1);
	/* Nobody's head fitted: skip the empty rounds DRR would go through
	 * until the first would, in one (each earns that many quanta). */
	if (!work && r.short_by) {
		uint64_t mult = r.short_by;

		for (uint32_t i = 0; i < a->n; i++)
			work += visit(d, a->c[(start + i) % a->n], &r, mult);
	}
	return work;
}
