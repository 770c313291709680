/* SPDX-License-Identifier: MIT */
/* One large copy on every usable engine of its worker: see stripe.h. */
#include <errno.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dmadev.h>

#include "engine.h"
#include "stripe.h"
#include "worker.h"

#define STRIPE_MAX_PARTS MAX_DEVICES

/* Single writer; dmactl's reader loads them while we run (plain mov on x86). */
#define STAT_ADD(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

static uint32_t fifo_room(const struct device *d)
{
	return d->fifo_mask + 1 - (d->fifo_tail - d->fifo_head);
}

/*
 * May @t take a part of a copy of @ch? An engine of the channel's node that
 * is neither failing nor going away. dmad's CPU engine is not one: its
 * "parts" would all run in this worker, one after the other.
 */
static bool usable(const struct device *t, const struct chan *ch)
{
	return t != dmad.cpu && (t->capa & RTE_DMA_CAPA_MEM_TO_MEM) &&
	       !__atomic_load_n(&t->failed, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&t->stripe_off, __ATOMIC_ACQUIRE) &&
	       (ch->node < 0 || t->numa_node < 0 || t->numa_node == ch->node) && fifo_room(t);
}

/* A part done at once (not on the engine): count it where it ran. */
static void count_part(struct device *t, uint32_t len)
{
	STAT_ADD(t->bytes, len);
}

/* The engine of @t has the part @px of @gate's copy: note it in @t's fifo. */
static void push_part(struct device *t, struct chan *ch, const struct xfer *px, uint32_t cookie,
		      struct inflight *gate)
{
	/* The watchdog counts from the oldest outstanding entry. */
	if (t->fifo_tail == t->fifo_head)
		__atomic_store_n(&t->progress_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
	t->fifo[t->fifo_tail & t->fifo_mask] = (struct inflight){.ch = ch,
								 .cookie = cookie,
								 .len = px->len,
								 .on_dev = 1,
								 .op = px->op,
								 .kind = INFLIGHT_PART,
								 .src_va = px->src_va,
								 .dst_va = px->dst_va,
								 .gate = gate};
	t->on_dev++;
	t->unsubmitted++;
	/* The control thread reads head and tail to see a device drained. */
	__atomic_store_n(&t->fifo_tail, t->fifo_tail + 1, __ATOMIC_RELEASE);
}

/* Start part @px on @t; returns whether the engine has it. */
static bool place(struct device *t, struct chan *ch, const struct xfer *px, uint32_t cookie,
		  struct inflight *gate)
{
	int ret = worker_execute(t, px);

	if (ret == 1) {
		push_part(t, ch, px, cookie, gate);
		return true;
	}
	/* Refused (full, or an engine thread that would not start): the
	 * worker copies it now rather than hold the other parts back. */
	if (ret < 0)
		engine_cpu_exec(px);
	count_part(t, px->len);
	return false;
}

/* Part @i of @n of @x: [i * chunk, (i + 1) * chunk), the last one shorter. */
static struct xfer part(const struct xfer *x, uint32_t chunk, unsigned i)
{
	uint64_t off = (uint64_t)chunk * i;
	struct xfer px = *x;

	px.len = (uint32_t)RTE_MIN((uint64_t)chunk, x->len - off);
	px.src += off;
	px.dst += off;
	px.src_va += off;
	px.dst_va += off;
	return px;
}

int stripe_copy(struct device *d, struct chan *ch, const struct xfer *x, uint32_t cookie)
{
	struct dev_array *devs = rcu_deref(dmad.workers[d->worker].devs);
	struct device *to[STRIPE_MAX_PARTS];
	struct inflight *gate;
	struct xfer first;
	unsigned n = 1, pending = 0;
	uint32_t chunk;
	int ret;

	if (x->op != DMAD_PROTO_OP_COPY ||
	    (x->flags & (DMAD_PROTO_DF_FENCE | DMAD_PROTO_DF_NO_STRIPE)))
		return 0;
	/* The channel's own engine first: it holds the part before the gate. */
	if (!usable(d, ch) || fifo_room(d) < 2)
		return 0;
	to[0] = d;
	for (uint32_t i = 0; devs && i < devs->n && n < STRIPE_MAX_PARTS; i++)
		if (devs->d[i] != d && usable(devs->d[i], ch))
			to[n++] = devs->d[i];
	if (n < 2)
		return 0;
	/* Parts of whole cache lines; the last one takes what is left (so
	 * fewer parts than engines for a copy of a few lines). */
	chunk = (uint32_t)RTE_ALIGN_CEIL(((uint64_t)x->len + n - 1) / n, STRIPE_ALIGN);
	n = (unsigned)(((uint64_t)x->len + chunk - 1) / chunk);
	if (n < 2)
		return 0;

	/* Nothing is taken until the channel's engine has its part. */
	first = part(x, chunk, 0);
	ret = worker_execute(d, &first);
	if (ret == -ENOSPC || ret == -EBUSY)
		return ret;
	if (ret < 0)
		return 0;
	/* The gate goes after that part, if the engine has it. */
	gate = &d->fifo[(d->fifo_tail + (uint32_t)ret) & d->fifo_mask];
	if (ret)
		push_part(d, ch, &first, cookie, gate);
	else
		count_part(d, first.len);
	pending = (unsigned)ret;
	for (unsigned i = 1; i < n; i++) {
		struct xfer px = part(x, chunk, i);

		pending += place(to[i], ch, &px, cookie, gate);
	}
	/* Same thread as every reaper of the parts: none is done before this. */
	*gate = (struct inflight){.ch = ch,
				  .cookie = cookie,
				  .len = x->len,
				  .op = x->op,
				  .kind = INFLIGHT_GATE,
				  .src_va = x->src_va,
				  .dst_va = x->dst_va,
				  .parts = pending};
	ch->stripes++;
	__atomic_store_n(&d->fifo_tail, d->fifo_tail + 1, __ATOMIC_RELEASE);
	return 1 + ret;
}

/* A part is done (by its engine, or redone): count it where it ran. */
static void part_done(struct device *t, struct inflight *e)
{
	e->gate->parts--;
	e->kind = INFLIGHT_PART_DONE;
	count_part(t, e->len);
}

bool stripe_retire(struct device *d, struct inflight *e)
{
	switch (e->kind) {
	case INFLIGHT_PART:
		part_done(d, e);
		return true;
	case INFLIGHT_PART_DONE:
		return true;
	default: /* INFLIGHT_GATE */
		e->ch->stripes--;
		return false;
	}
}

/* The next entry behind @d's head that its engine still holds. */
static struct inflight *next_on_dev(struct device *d, uint32_t *pos)
{
	struct inflight *e;

	while (!(e = &d->fifo[*pos & d->fifo_mask])->on_dev)
		++*pos;
	++*pos;
	return e;
}

void stripe_reap_ahead(struct device *d, const bool *ok, unsigned n)
{
	uint32_t pos = d->fifo_head + 1;
	bool more[32];

	for (;;) {
		/* Engines complete in enqueue order: the i-th is the i-th it holds. */
		for (unsigned k = 0; k < n; k++) {
			struct inflight *e = next_on_dev(d, &pos);

			if (!ok[k]) {
				worker_cpu_redo(e);
				STAT_ADD(d->errors, 1);
			}
			e->on_dev = 0;
			d->on_dev--;
			if (e->kind == INFLIGHT_PART)
				part_done(d, e);
		}
		if (!d->on_dev)
			break;
		n = d->engine->reap(d, RTE_DIM(more), more);
		if (!n)
			break;
		ok = more;
	}
	/*
	 * The watchdog's progress: this engine completed something, or it owes
	 * nothing and only waits for parts on other engines (their own
	 * watchdogs look after those), which is no sign of a hang here.
	 */
	if (pos != d->fifo_head + 1 || !d->on_dev)
		__atomic_store_n(&d->progress_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
}

void stripe_redo_ahead(struct device *d)
{
	uint32_t pos = d->fifo_head + 1;

	while (d->on_dev) {
		struct inflight *e = next_on_dev(d, &pos);

		worker_cpu_redo(e);
		e->on_dev = 0;
		d->on_dev--;
		if (e->kind == INFLIGHT_PART)
			part_done(d, e);
	}
}

uint64_t stripe_min_default(uint32_t copybreak)
{
	/*
	 * The copybreak is where one descriptor's fixed cost on the engine is
	 * about a memcpy of that many bytes. A part adds one such cost; parts
	 * of at least 64 copybreaks keep it under 1/64 of the part's copy, and
	 * a stripe has at least two parts.
	 */
	uint64_t v = (uint64_t)copybreak * 128;

	return rte_align64pow2(RTE_MAX(RTE_MIN(v, (uint64_t)16 << 20), (uint64_t)256 << 10));
}
