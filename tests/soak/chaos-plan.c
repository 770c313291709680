/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "chaos-plan.h"
#include "copier.h"

static uint32_t r32(struct chaos_cl *c)
{
	return rnd(&c->rng);
}

static bool overlaps(size_t a, size_t alen, size_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool in_zone(const struct chaos_plan *p, unsigned reg, size_t off)
{
	return off >= p->zone_lo[reg] && off < p->zone_hi[reg];
}

static bool hits_written(const struct chaos_plan *p, unsigned reg, size_t off, size_t len)
{
	for (unsigned i = 0; i < p->nwritten; i++)
		if (p->written[i].reg == reg &&
		    overlaps(off, len, p->written[i].off, p->written[i].len))
			return true;
	return false;
}

/* A stretch of region @reg outside its zone that no fenced op of this window wrote. */
static bool pick_src_in(struct chaos_cl *c, const struct chaos_plan *p, unsigned reg, size_t len,
			size_t *ret_off)
{
	size_t lo = p->zone_lo[reg] ? 0 : p->zone_hi[reg];
	size_t hi = p->zone_lo[reg] ? p->zone_lo[reg] : c->reg[reg].len;

	for (int tries = 0; tries < 4 && hi - lo >= len; tries++) {
		size_t off = lo + r32(c) % (hi - lo - len + 1);

		if (!hits_written(p, reg, off, len)) {
			*ret_off = off;
			return true;
		}
	}
	return false;
}

static bool pick_src(struct chaos_cl *c, const struct chaos_plan *p, size_t len, uint8_t *ret_reg,
		     size_t *ret_off)
{
	unsigned first = r32(c);

	for (unsigned i = 0; i < CHAOS_NREG; i++) {
		unsigned reg = (first + i) % CHAOS_NREG;

		if (pick_src_in(c, p, reg, len, ret_off)) {
			*ret_reg = (uint8_t)reg;
			return true;
		}
	}
	return false;
}

/* The next fresh stretch of @reg's zone, after a guard gap, with room for one after it. */
static bool pick_dst_in(struct chaos_cl *c, struct chaos_plan *p, unsigned reg, size_t len,
			size_t *ret_off)
{
	size_t gap = 1 + r32(c) % CHAOS_GAP_MAX;

	if (p->bump[reg] + gap + len + CHAOS_GAP_MAX > p->zone_hi[reg])
		return false;
	*ret_off = p->bump[reg] + gap;
	p->bump[reg] = *ret_off + len;
	return true;
}

static bool pick_dst(struct chaos_cl *c, struct chaos_plan *p, size_t len, uint8_t *ret_reg,
		     size_t *ret_off)
{
	unsigned first = r32(c);

	for (unsigned i = 0; i < CHAOS_NREG; i++) {
		unsigned reg = (first + i) % CHAOS_NREG;

		if (pick_dst_in(c, p, reg, len, ret_off)) {
			*ret_reg = (uint8_t)reg;
			return true;
		}
	}
	return false;
}

/* All of an earlier op's stretch half the time (a whole copy to corrupt), else a part. */
static void part_of(struct chaos_cl *c, size_t off, size_t len, size_t *ret_off, size_t *ret_len)
{
	size_t skip = r32(c) % 2 ? 0 : r32(c) % len;

	*ret_off = off + skip;
	*ret_len = skip ? 1 + r32(c) % (len - skip) : len;
}

/* A copy from a readable stretch into @o's destination (set), unless they overlap. */
static bool src_for(struct chaos_cl *c, const struct chaos_plan *p, struct chaos_op *o)
{
	return pick_src(c, p, o->len, &o->src_reg, &o->src_off) &&
	       !(o->src_reg == o->dst_reg && overlaps(o->src_off, o->len, o->dst_off, o->len));
}

/*
 * One op, of a kind picked at random; @e is an earlier op of this window
 * (NULL: none yet) for the fenced kinds to reuse stretches of.
 */
static bool plan_op(struct chaos_cl *c, struct chaos_plan *p, struct chaos_op *o, size_t len)
{
	struct chaos_op *e = p->n ? &p->op[r32(c) % p->n] : NULL;
	unsigned roll = r32(c) % (e ? 16 : 11);

	*o = (struct chaos_op){.len = len,
			       .cookie = -1,
			       .pattern = (uint64_t)r32(c) << 32 | r32(c),
			       .flags = r32(c) % 8 ? 0 : DMAC_HINT_CACHE};
	if (roll >= 11)
		o->flags |= DMAC_FENCE;
	if ((roll == 11 || roll == 12) && e->fill)
		roll = 15; /* write after read needs an earlier copy */

	switch (roll) {
	case 9:
	case 10:
		o->what = "fill";
		o->fill = 1;
		return pick_dst(c, p, len, &o->dst_reg, &o->dst_off);
	case 11:
	case 12:
		/* Overwrite what an earlier copy reads: a redo of it would copy the new bytes. */
		o->what = roll == 11 ? "war-copy" : "war-fill";
		o->fill = roll == 12;
		o->dst_reg = e->src_reg;
		part_of(c, e->src_off, e->len, &o->dst_off, &o->len);
		break;
	case 13:
		/* Read what an earlier op wrote. */
		o->what = "raw-copy";
		o->src_reg = e->dst_reg;
		part_of(c, e->dst_off, e->len, &o->src_off, &o->len);
		return pick_dst(c, p, o->len, &o->dst_reg, &o->dst_off);
	case 14:
		/* Overwrite what an earlier op wrote. */
		o->what = r32(c) % 2 ? "waw-copy" : "waw-fill";
		o->fill = o->what[4] == 'f';
		o->dst_reg = e->dst_reg;
		part_of(c, e->dst_off, e->len, &o->dst_off, &o->len);
		break;
	default:
		o->what = roll == 15 ? "fenced-copy" : "copy";
		if (!pick_dst(c, p, len, &o->dst_reg, &o->dst_off))
			return false;
		return src_for(c, p, o);
	}
	if (!o->fill && !src_for(c, p, o))
		return false;
	if (!in_zone(p, o->dst_reg, o->dst_off))
		p->written[p->nwritten++] = (struct chaos_span){o->dst_reg, o->dst_off, o->len};
	return true;
}

/* Unfenced copies into and out of the region that is freed once they are issued. */
static void plan_free_ops(struct chaos_cl *c, struct chaos_plan *p)
{
	unsigned x = (unsigned)p->freed;

	for (unsigned i = 0; i < CHAOS_FREE_OPS && p->n < CHAOS_MAX_OPS; i++) {
		struct chaos_op *o = &p->op[p->n];
		size_t len = rnd_len(&c->rng, 16 << 10);
		bool ok;

		*o = (struct chaos_op){.what = i % 2 ? "copy-from-freed" : "copy-to-freed",
				       .len = len,
				       .cookie = -1};
		if (i % 2) {
			o->src_reg = (uint8_t)x;
			ok = pick_src_in(c, p, x, len, &o->src_off) &&
			     pick_dst(c, p, len, &o->dst_reg, &o->dst_off);
		} else {
			o->dst_reg = (uint8_t)x;
			ok = pick_dst_in(c, p, x, len, &o->dst_off) &&
			     pick_src(c, p, len, &o->src_reg, &o->src_off);
		}
		p->n += ok;
	}
}

/* Sizes: log-uniform up to @max, and one in eight just around a copybreak. */
static size_t pick_len(struct chaos_cl *c, size_t copybreak, size_t max)
{
	size_t base = copybreak >= 2 && r32(c) % 2 ? copybreak : CHAOS_NOMINAL_CB;
	size_t len = base - 1 + r32(c) % 3;

	if (r32(c) % 8 == 0 && len <= max)
		return len;
	return rnd_len(&c->rng, max);
}

void chaos_plan(struct chaos_cl *c, struct chaos_plan *p, size_t copybreak)
{
	unsigned roll = r32(c) % 32, want;
	size_t max;

	p->n = 0;
	p->nwritten = 0;
	p->freed = -1;
	p->ring_only = false;
	for (unsigned i = 0; i < CHAOS_NREG; i++) {
		size_t half = c->reg[i].len / 2;
		bool low = r32(c) % 2;

		p->zone_lo[i] = low ? 0 : half;
		p->zone_hi[i] = low ? half : c->reg[i].len;
		p->bump[i] = p->zone_lo[i];
	}
	if (roll == 0) {
		/* A flood of tiny ops, more than the ring holds: -EAGAIN is met and handled. */
		want = CHAOS_MAX_OPS - r32(c) % 200;
		max = 64;
		p->ring_only = true;
	} else if (roll <= 3) {
		/* Many ops queued ahead of the ones that touch the freed region. */
		want = 150 + r32(c) % 450;
		max = 16 << 10;
		p->ring_only = true;
		p->freed = (int)(r32(c) % CHAOS_NREG);
	} else if (roll <= 9) {
		want = 32 + r32(c) % 168;
		max = 64 << 10;
	} else {
		want = 1 + r32(c) % 48;
		max = CHAOS_MAX_LEN;
	}
	if (p->ring_only)
		copybreak = 0;
	for (unsigned tries = 0; p->n < want && tries < 2 * want; tries++)
		p->n += plan_op(c, p, &p->op[p->n], pick_len(c, copybreak, max));
	if (p->freed >= 0)
		plan_free_ops(c, p);
}

/* For reports: "war-copy fenced 4096 B r1+8192 -> r3+100 cookie 77". */
const char *chaos_op_describe(const struct chaos_op *o, char *buf, size_t size)
{
	char src[32] = "";

	if (!o->fill)
		snprintf(src, sizeof(src), "r%u+%zu ", o->src_reg, o->src_off);
	snprintf(buf, size, "%s%s %zu B %s-> r%u+%zu cookie %d", o->what,
		 o->flags & DMAC_FENCE ? " fenced" : "", o->len, src, o->dst_reg, o->dst_off,
		 o->cookie);
	return buf;
}
