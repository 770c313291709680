/* SPDX-License-Identifier: MIT */
/*
 * One chaos client's state, and its unit of work: a window of ops issued
 * together, waited for, and checked byte for byte against a shadow of
 * every region, the content each must hold once every op so far is done.
 */
#ifndef TESTS_SOAK_CHAOS_WINDOW_H
#define TESTS_SOAK_CHAOS_WINDOW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos.h"
#include "dmaclient.h"

#define CHAOS_NREG    4
#define CHAOS_MAX_LEN (256u << 10)
/* The calibrated copybreak of a software engine: sizes around it are asked for too. */
#define CHAOS_NOMINAL_CB (64u << 10)

struct chaos_region {
	uint8_t *mem;	 /* registered with dmad */
	uint8_t *shadow; /* what mem must hold once every op so far completed */
	size_t len;
};

struct chaos_cl {
	unsigned slot;
	uint32_t seed;
	uint32_t rng;  /* what each window does: the same for a seed, run after run */
	uint32_t trng; /* choices made as often as the timing says (wait slices) */
	struct dmac_client *client;
	struct dmac_chan *chans[2];
	unsigned nchans;
	struct chaos_region reg[CHAOS_NREG];
	uint64_t window; /* windows begun by this process */
	struct chaos_stats *st;
	uint64_t regressions; /* by this process */
	unsigned diags[3];    /* detail lines printed, per chaos_diag: the counters say the rest */
};

enum chaos_diag { DIAG_ERROR, DIAG_ORDER, DIAG_DATA };

/*
 * chaos_window() - plan, issue, wait for and verify one window on @ch.
 * Returns 0, or -1 when this client cannot go on (an op lost, dmad gone,
 * a region it cannot replace), counted and said before.
 */
int chaos_window(struct chaos_cl *c, struct dmac_chan *ch);

/* Position-dependent bytes from @salt, 8 at a time (cheap enough for every window). */
void chaos_pattern(uint8_t *p, size_t len, uint64_t salt);

/* Count an undocumented error of @kind and say what it was (the first few only). */
__attribute__((format(printf, 3, 4))) void chaos_undoc(struct chaos_cl *c, enum chaos_undoc kind,
						       const char *fmt, ...);

/* A detail line about this client, while this process's budget for @what lasts. */
__attribute__((format(printf, 3, 4))) void chaos_say(struct chaos_cl *c, enum chaos_diag what,
						     const char *fmt, ...);

#endif /* TESTS_SOAK_CHAOS_WINDOW_H */
