/* SPDX-License-Identifier: MIT */
/*
 * Cookies are 31-bit sequence numbers, 1..INT32_MAX, wrapping to 1. The
 * reference here is a 64-bit sequence number that never wraps: cookie(s) is
 * ((s - 1) mod COOKIE_MAX) + 1, and a cookie is done when the newest
 * sequence that carries it is at or before the last completed one.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dmad_ring.h"
#include "tap.h"

static uint32_t cookie_of(uint64_t seq)
{
	return seq ? (uint32_t)((seq - 1) % DMAD_PROTO_COOKIE_MAX) + 1 : 0;
}

/* cookie_done() against the reference for every query in (used-span, used]. */
static unsigned int check_window(uint64_t used, uint64_t done, uint64_t span)
{
	unsigned int bad = 0;
	uint64_t lo = used > span ? used - span : 0;

	for (uint64_t q = lo + 1; q <= used; q++) {
		int want = q <= done;
		int got = dmad_proto_cookie_done(cookie_of(q), cookie_of(done), cookie_of(used));

		if (got != want && bad++ < 5)
			tap_diag("seq %llu (cookie %u) done %llu used %llu: got %d want %d",
				 (unsigned long long)q, cookie_of(q), (unsigned long long)done,
				 (unsigned long long)used, got, want);
	}
	return bad;
}

static void check_next(void)
{
	static const uint64_t bases[] = {1, DMAD_PROTO_COOKIE_MAX, 2ull * DMAD_PROTO_COOKIE_MAX,
					 7ull * DMAD_PROTO_COOKIE_MAX};
	unsigned int bad = 0, bad_range = 0;

	for (unsigned int b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
		for (uint64_t s = bases[b] > 3000 ? bases[b] - 3000 : 1; s < bases[b] + 3000; s++)
			if (dmad_proto_cookie_next(cookie_of(s)) != cookie_of(s + 1))
				bad++;
	ok(bad == 0, "cookie_next follows the sequence across the 31-bit wrap (%u wrong)", bad);
	ok(dmad_proto_cookie_next(0) == DMAD_PROTO_COOKIE_MIN, "first cookie after 0 is %u",
	   DMAD_PROTO_COOKIE_MIN);
	ok(dmad_proto_cookie_next(DMAD_PROTO_COOKIE_MAX) == DMAD_PROTO_COOKIE_MIN,
	   "cookie after INT32_MAX is %u", DMAD_PROTO_COOKIE_MIN);

	/* Garbage from a hostile ring must still give a valid cookie. */
	for (uint64_t c = 0; c <= UINT32_MAX; c += 65521) {
		uint32_t n = dmad_proto_cookie_next((uint32_t)c);

		if (n < DMAD_PROTO_COOKIE_MIN || n > DMAD_PROTO_COOKIE_MAX)
			bad_range++;
	}
	ok(dmad_proto_cookie_next(UINT32_MAX) == DMAD_PROTO_COOKIE_MIN && bad_range == 0,
	   "cookie_next of any 32-bit value is a valid cookie (%u wrong)", bad_range);
}

static void check_done(void)
{
	static const uint64_t wraps[] = {DMAD_PROTO_COOKIE_MAX, 2ull * DMAD_PROTO_COOKIE_MAX,
					 5ull * DMAD_PROTO_COOKIE_MAX};
	unsigned int bad = 0;

	/* Newest cookie and last completed one on both sides of each wrap. */
	for (unsigned int w = 0; w < sizeof(wraps) / sizeof(wraps[0]); w++)
		for (uint64_t used = wraps[w] - 40; used <= wraps[w] + 40; used++)
			for (uint64_t lag = 0; lag <= 80; lag++)
				bad += check_window(used, used - lag, 200);
	ok(bad == 0, "cookie_done matches reference near the wrap (%u wrong)", bad);

	/* A fresh channel: nothing completed yet (0), a few cookies out. */
	bad = 0;
	for (uint64_t used = 0; used < 50; used++)
		for (uint64_t done = 0; done <= used; done++)
			bad += check_window(used, done, 50);
	ok(bad == 0, "cookie_done right on a fresh channel (%u wrong)", bad);

	/* The most outstanding the arithmetic allows, across the wrap. */
	bad = 0;
	srand(2);
	for (unsigned int i = 0; i < 200000; i++) {
		uint64_t used = 3ull * DMAD_PROTO_COOKIE_MAX + (uint64_t)rand() % 100000 - 50000;
		uint64_t done = used - (DMAD_PROTO_COOKIE_MAX - 1);
		uint64_t q = used - (uint64_t)rand() % (DMAD_PROTO_COOKIE_MAX - 1);
		int got = dmad_proto_cookie_done(cookie_of(q), cookie_of(done), cookie_of(used));

		if (got != (q <= done))
			bad++;
	}
	ok(bad == 0, "cookie_done right with COOKIE_MAX-1 outstanding (%u wrong)", bad);
}

/*
 * A channel's life over the wrap as the library sees it: cookies handed out
 * with cookie_next, completion trailing by up to a ring's worth.
 */
static void check_walk(void)
{
	uint64_t used = DMAD_PROTO_COOKIE_MAX - 3000, done = used;
	uint32_t c = cookie_of(used);
	unsigned int bad = 0;

	srand(3);
	while (used < DMAD_PROTO_COOKIE_MAX + 3000) {
		c = dmad_proto_cookie_next(c);
		used++;
		if (c != cookie_of(used))
			bad++;
		if (done < used && rand() % 2)
			done += 1 + (uint64_t)rand() % (used - done);
		if (used - done > DMAD_PROTO_SQ_ENTRIES)
			done = used - DMAD_PROTO_SQ_ENTRIES;
		bad += check_window(used, done, 2 * DMAD_PROTO_SQ_ENTRIES);
	}
	ok(bad == 0, "a channel's cookies stay right while it wraps (%u wrong)", bad);
}

int main(void)
{
	tap_plan(8);
	check_next();
	check_done();
	check_walk();
	return tap_done();
}
