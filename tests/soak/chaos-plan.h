/* SPDX-License-Identifier: MIT */
/*
 * Where a window's ops read and write. The rules keep the expected result
 * well defined whatever order the unfenced ops land in:
 *
 *  - each region has this window's zone (one half, chosen afresh) where
 *    destinations are laid out one after another with guard gaps; the
 *    other half is read from;
 *  - an unfenced op writes only a fresh stretch of a zone and reads only
 *    the other halves, and never what a fenced op of this window wrote;
 *  - a fenced op (DMAC_FENCE lands after every earlier op) may also write
 *    what earlier ops read (write after read: what a wrong redo of an
 *    earlier copy corrupts) or wrote, and read what they wrote.
 *
 * So applying the ops to the shadow in cookie order gives the result.
 */
#ifndef TESTS_SOAK_CHAOS_PLAN_H
#define TESTS_SOAK_CHAOS_PLAN_H

#include <stdbool.h>

#include "chaos-window.h"

#define CHAOS_MAX_OPS  1280 /* more than a ring holds: some windows find it full */
#define CHAOS_GAP_MAX  64   /* guard bytes between destinations: 1 .. this */
#define CHAOS_FREE_OPS 8    /* ops that touch a region about to be freed, last */

struct chaos_op {
	const char *what; /* "copy", "fill", "war-copy", ... for reports */
	uint8_t fill;
	unsigned flags; /* DMAC_FENCE, DMAC_HINT_CACHE */
	uint8_t src_reg, dst_reg;
	size_t src_off, dst_off, len;
	uint64_t pattern;
	dmac_cookie_t cookie; /* < 0: not issued */
	/* Seen by the completion checks, so that each op is counted once. */
	uint8_t seen_done, seen_error, seen_ooo, seen_regress;
};

struct chaos_span {
	uint8_t reg;
	size_t off, len;
};

struct chaos_plan {
	struct chaos_op op[CHAOS_MAX_OPS];
	unsigned n;
	size_t zone_lo[CHAOS_NREG], zone_hi[CHAOS_NREG];
	size_t bump[CHAOS_NREG]; /* end of the last destination laid out in the zone */
	/* What fenced ops wrote outside the zones: unfenced ops must not read it. */
	struct chaos_span written[CHAOS_MAX_OPS];
	unsigned nwritten;
	int freed;	/* region freed once the ops are issued, or -1 */
	bool ring_only; /* copybreak 0 for this window: the ops stay queued in the ring */
};

/* Lay out a window for @c, whose channel's copybreak is @copybreak. */
void chaos_plan(struct chaos_cl *c, struct chaos_plan *p, size_t copybreak);

/* For reports: "war-copy fenced 4096 B r1+8192 -> r3+100 cookie 77". */
const char *chaos_op_describe(const struct chaos_op *o, char *buf, size_t size);

/*
 * chaos_verify() - once every op of @p is complete: every byte of every
 * region of @c against its shadow, differences counted (bad, stray, or
 * left unspecified by a DMAC_ERROR), said, and adopted so that they are
 * counted once. In chaos-verify.c.
 */
void chaos_verify(struct chaos_cl *c, struct dmac_chan *ch, const struct chaos_plan *p);

#endif /* TESTS_SOAK_CHAOS_PLAN_H */
