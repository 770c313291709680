/* SPDX-License-Identifier: MIT */
/*
 * Large copies on an engine whose worker copies inline (dmad's CPU engine),
 * in chunks while other channels share it: a memcpy cannot be preempted, so
 * a 64 KiB copy would make a depth-1 neighbour's 4 KiB one wait for all of
 * it. A chunk per turn lets the other channels' turns come in between.
 *
 * The copy stays at the head of its ring, unconsumed, until its last
 * chunk: nothing after it in the channel is taken before it is done, so
 * completion order is the ring's, and the regions it names stay in its
 * owner's table (an unregister waits for what was published before it to
 * be consumed). Each chunk re-reads and re-validates the descriptor, as any
 * take does; a client that rewrites a slot it has published gets its own
 * regions' bytes mixed, as it would by rewriting them. Where the channel
 * goes meanwhile (a move, a restart) the copy is simply done again, whole:
 * nothing after it has run, so its source is as it was.
 */
#include <errno.h>

#include <rte_dmadev.h>

#include "engine.h"
#include "worker.h"

/* Some 2 us of memcpy here: what a neighbour waits for at most. A multiple
 * of 8, so that a fill's pattern keeps its phase. */
#define CHUNK (16u << 10)
/* A fill the worker makes itself goes in pieces of this even on a channel
 * alone: a fill may be 4 GiB - 1 long, and in one piece every channel of
 * the worker waited for all of it (a bystander timed out at 20 s). */
#define FILL_PIECE (1u << 20)

/* How much of @desc the worker makes per turn on @d; 0: not in pieces. */
static uint32_t piece(const struct device *d, const struct dmad_proto_desc *desc, bool shared)
{
	if (d->copies_inline && shared)
		return CHUNK;
	if (desc->op != DMAD_PROTO_OP_FILL ||
	    !(d->copies_inline || !(d->capa & RTE_DMA_CAPA_OPS_FILL)))
		return 0;
	/* A fenced fill waits for the engine to drain: the take says when. */
	return (desc->flags & DMAD_PROTO_DF_FENCE) && d->on_dev ? 0 : FILL_PIECE;
}

void worker_chunk_rest(struct xfer *x, uint32_t done)
{
	/* A fill has no source: no offset on a NULL pointer. */
	if (x->op == DMAD_PROTO_OP_COPY)
		x->src_va = (uint8_t *)x->src_va + done;
	x->dst_va = (uint8_t *)x->dst_va + done;
	x->len -= done;
}

int worker_chunk_head(struct device *d, struct chan *ch, struct worker_take *lim, bool shared)
{
	uint32_t avail = dmad_ring_cons_avail(ch->ring, ch->head), size;
	struct dmad_proto_desc desc;
	struct xfer x = {0};

	/* worker_poll_chan() faults an impossible producer index. */
	if (ch->faulted || !avail || avail > ch->sq_mask + 1)
		return 0;
	desc = ch->sq[ch->head & ch->sq_mask];
	size = piece(d, &desc, shared);
	if (!size)
		return 0;
	if (ch->chunk_dev != d || ch->chunk_at != ch->consumed) {
		ch->chunk_dev = d;
		ch->chunk_at = ch->consumed;
		ch->chunk_done = 0;
	}
	/* Short, or rewritten shorter than what is done: the normal take
	 * does it (again, whole). */
	if (desc.len <= size || ch->chunk_done >= desc.len ||
	    validate_desc(&desc, rcu_deref(*ch->regions), &x) < 0) {
		ch->chunk_done = 0;
		return 0;
	}
	if (desc.len - ch->chunk_done <= size) {
		/* Paid for chunk by chunk: the take charges only the rest. */
		lim->done = ch->chunk_done;
		lim->deficit += ch->chunk_done;
		return 0;
	}
	if (lim->deficit < (int64_t)size) {
		lim->need = size;
		return -ENOBUFS;
	}
	worker_chunk_rest(&x, ch->chunk_done);
	x.len = size;
	engine_cpu_exec(&x);
	ch->chunk_done += size;
	lim->deficit -= size;
	return 1;
}

unsigned worker_poll_lone(struct device *d, struct chan *ch)
{
	struct worker_take lim = {.deficit = FILL_PIECE, .descs = 1, .tokens = UINT64_MAX};

	if (worker_chunk_head(d, ch, &lim, false) > 0)
		return 1;
	/* Its last piece: that fill alone, this pass. */
	return worker_poll_chan(d, ch, false, lim.done ? &lim : NULL);
}
