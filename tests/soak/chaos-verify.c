/* SPDX-License-Identifier: MIT */
/*
 * After a window: every byte of every region against its shadow. A byte
 * that differs inside a destination of the window is bad; elsewhere (the
 * guard gaps, the rest of a zone, the other halves, a region allocated in
 * place of a freed one) it is stray. Each run of differing bytes is said
 * with what it needs to be reproduced: the op, its cookie and offsets, and
 * for a copy, what became of its source.
 */
#include <stdio.h>
#include <string.h>

#include "chaos-plan.h"

#define VERIFY_STEP 4096 /* memcmp this much at a time, bytes only where it differs */

/* The latest op whose destination covers byte @off of region @reg, or NULL. */
static const struct chaos_op *writer_of(const struct chaos_plan *p, unsigned reg, size_t off)
{
	for (unsigned i = p->n; i-- > 0;) {
		const struct chaos_op *o = &p->op[i];

		if (o->cookie >= 0 && o->dst_reg == reg && off >= o->dst_off &&
		    off - o->dst_off < o->len)
			return o;
	}
	return NULL;
}

/*
 * For a bad byte @b of copy @o: a later op of the window that overwrote its
 * source byte (fenced, so it must land after @o), and what that byte holds
 * now. The two together point at a copy redone after its source changed.
 */
static const char *source_hint(const struct chaos_cl *c, const struct chaos_plan *p,
			       const struct chaos_op *o, size_t b, char *buf, size_t size)
{
	size_t at = o->src_off + b;
	char desc[160];

	buf[0] = '\0';
	if (o->fill || o->src_reg == p->freed)
		return buf;
	for (const struct chaos_op *l = o + 1; l < p->op + p->n; l++)
		if (l->cookie >= 0 && l->dst_reg == o->src_reg && at >= l->dst_off &&
		    at - l->dst_off < l->len) {
			snprintf(
				buf, size,
				"; its source byte r%u+%zu was overwritten after it by op %u (%s), and holds %#x now",
				o->src_reg, at, (unsigned)(l - p->op),
				chaos_op_describe(l, desc, sizeof(desc)),
				c->reg[o->src_reg].mem[at]);
			return buf;
		}
	snprintf(buf, size, "; its source byte r%u+%zu holds %#x now", o->src_reg, at,
		 c->reg[o->src_reg].mem[at]);
	return buf;
}

/*
 * Bytes [off, off + len) of @reg differ from the shadow: count those some
 * op of this window wrote as bad, the rest (guards, a fresh region) as
 * stray, and say where the run starts and which op its first bad byte is of.
 */
static void report_run(struct chaos_cl *c, struct dmac_chan *ch, const struct chaos_plan *p,
		       unsigned reg, size_t off, size_t len)
{
	bool fresh = (int)reg == p->freed;
	const struct chaos_region *r = &c->reg[reg];
	const struct chaos_op *first = NULL;
	uint64_t bad = 0, unspecified = 0, stray;
	size_t at = off;
	char what[640] = "", buf[160], hint[400];

	/* Op by op, not byte by byte: a run can be a whole 256 KiB copy. */
	for (size_t i = 0; i < len && !fresh;) {
		const struct chaos_op *w = writer_of(p, reg, off + i);
		size_t n = w ? w->dst_off + w->len - (off + i) : 1;

		n = n < len - i ? n : len - i;
		/* DMAC_ERROR leaves the destination unspecified: the error is what counts. */
		if (w && w->seen_error) {
			unspecified += n;
		} else if (w) {
			bad += n;
			if (!first) {
				first = w;
				at = off + i;
			}
		}
		i += n;
	}
	stray = len - bad - unspecified;
	CHAOS_STAT_ADD(c->st, bad_bytes, bad);
	CHAOS_STAT_ADD(c->st, stray_bytes, stray);
	CHAOS_STAT_ADD(c->st, unspecified, unspecified);
	if (!bad && !stray)
		return;
	if (first)
		snprintf(what, sizeof(what),
			 "first bad byte r%u+%zu: got %#x want %#x, byte %zu of op %u (%s)%s", reg,
			 at, r->mem[at], r->shadow[at], at - first->dst_off,
			 (unsigned)(first - p->op), chaos_op_describe(first, buf, sizeof(buf)),
			 source_hint(c, p, first, at - first->dst_off, hint, sizeof(hint)));
	else
		snprintf(
			what, sizeof(what), "got %#x want %#x: %s", r->mem[off], r->shadow[off],
			fresh ? "in the region allocated in place of the one just freed: a stale copy"
			      : "guard bytes");
	chaos_say(c, DIAG_DATA, "%zu byte(s) differ at r%u+%zu on %s (%llu bad, %llu stray); %s",
		  len, reg, off, dmac_chan_device(ch), (unsigned long long)bad,
		  (unsigned long long)stray, what);
}

void chaos_verify(struct chaos_cl *c, struct dmac_chan *ch, const struct chaos_plan *p)
{
	for (unsigned reg = 0; reg < CHAOS_NREG; reg++) {
		struct chaos_region *r = &c->reg[reg];
		size_t off = 0;

		if (!memcmp(r->mem, r->shadow, r->len))
			continue;
		while (off < r->len) {
			size_t end = off + 1;

			if (off % VERIFY_STEP == 0 && off + VERIFY_STEP <= r->len &&
			    !memcmp(r->mem + off, r->shadow + off, VERIFY_STEP)) {
				off += VERIFY_STEP;
				continue;
			}
			if (r->mem[off] == r->shadow[off]) {
				off++;
				continue;
			}
			while (end < r->len && r->mem[end] != r->shadow[end])
				end++;
			report_run(c, ch, p, reg, off, end - off);
			memcpy(r->shadow + off, r->mem + off, end - off);
			off = end;
		}
	}
}
