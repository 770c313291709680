/* SPDX-License-Identifier: MIT */
/*
 * A window's life: fresh guard bytes over the zones, the ops issued in
 * bursts (each applied to the shadow as it gets its cookie), a region
 * freed under them now and then, completions awaited one of three ways
 * with the order looked at on the way, then every byte checked.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chaos-plan.h"
#include "copier.h"
#include "harness.h"

#define DIAG_MAX 6 /* detail lines per kind and client process */

/* One window at a time per process, and too big for the stack. */
static struct chaos_plan plan;

static uint32_t r32(struct chaos_cl *c)
{
	return rnd(&c->rng);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

void chaos_pattern(uint8_t *p, size_t len, uint64_t salt)
{
	for (size_t i = 0; i < len; i += 8) {
		/* splitmix64 of the word's index: no two words alike, so a shifted copy shows. */
		uint64_t x = salt + (i / 8 + 1) * 0x9e3779b97f4a7c15ull;

		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
		memcpy(p + i, &x, len - i < 8 ? len - i : 8);
	}
}

static uint64_t salt(const struct chaos_cl *c, unsigned reg)
{
	return (uint64_t)c->seed << 32 ^ c->window << 4 ^ reg;
}

void chaos_say(struct chaos_cl *c, enum chaos_diag what, const char *fmt, ...)
{
	static const char *const names[] = {"errors", "order", "data"};
	char msg[1024];
	va_list ap;

	if (c->diags[what] > DIAG_MAX)
		return;
	if (++c->diags[what] > DIAG_MAX) {
		tap_diag("client %u (seed %u): further details on %s left out", c->slot, c->seed,
			 names[what]);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_diag("client %u (seed %u) window %llu: %s", c->slot, c->seed,
		 (unsigned long long)c->window, msg);
}

void chaos_undoc(struct chaos_cl *c, enum chaos_undoc kind, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	CHAOS_STAT_ADD(c->st, undoc[kind], 1);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	chaos_say(c, DIAG_ERROR, "undocumented error (%s): %s", chaos_undoc_name[kind], msg);
}

static enum chaos_undoc kind_of(int err)
{
	switch (err) {
	case -EINVAL:
		return UNDOC_EINVAL;
	case -ENODEV:
		return UNDOC_ENODEV;
	case -EIO:
		return UNDOC_EIO;
	default:
		return UNDOC_OTHER;
	}
}

static void fill_bytes(uint8_t *p, uint64_t pattern, size_t len)
{
	size_t i = 0;

	/* As dmac_fill() says: byte i is byte i % 8 of the pattern in memory order. */
	for (; i + 8 <= len; i += 8)
		memcpy(p + i, &pattern, 8);
	memcpy(p + i, &pattern, len - i);
}

/* The op's effect on the shadow, in cookie order. */
static void apply(struct chaos_cl *c, const struct chaos_op *o)
{
	uint8_t *dst = c->reg[o->dst_reg].shadow + o->dst_off;

	if (o->fill)
		fill_bytes(dst, o->pattern, o->len);
	else
		memcpy(dst, c->reg[o->src_reg].shadow + o->src_off, o->len);
}

/* Fresh guard bytes over each zone up to past its last destination, here and in the shadow. */
static void prepare_zones(struct chaos_cl *c)
{
	for (unsigned i = 0; i < CHAOS_NREG; i++) {
		struct chaos_region *r = &c->reg[i];
		size_t lo = plan.zone_lo[i], end = plan.bump[i] + CHAOS_GAP_MAX;

		if (end > plan.zone_hi[i])
			end = plan.zone_hi[i];
		chaos_pattern(r->mem + lo, end - lo, salt(c, i));
		memcpy(r->shadow + lo, r->mem + lo, end - lo);
	}
}

/* Wait in slices of a finite timeout (-ETIMEDOUT is documented: counted, not failed). */
static int wait_for(struct chaos_cl *c, struct dmac_chan *ch, dmac_cookie_t k, int64_t deadline)
{
	for (;;) {
		int r = dmac_wait(ch, k, 1 + (int)(rnd(&c->trng) % 200));

		if (r == 0)
			return 0;
		if (r == -ETIMEDOUT) {
			CHAOS_STAT_ADD(c->st, etimedout, 1);
			if (harness_now_ms() < deadline)
				continue;
			chaos_undoc(c, UNDOC_LOST, "cookie %d not complete after %d ms on %s", k,
				    CHAOS_LOST_MS, dmac_chan_device(ch));
			return -1;
		}
		/* Complete, with an error (the order check counts the DMAC_ERROR too): go on. */
		if (r == -EIO) {
			chaos_undoc(c, UNDOC_EIO, "dmac_wait(%d): %s", k, strerror(-r));
			return 0;
		}
		chaos_undoc(c, kind_of(r), "dmac_wait(%d): %s", k, strerror(-r));
		return -1;
	}
}

static dmac_cookie_t issue(struct chaos_cl *c, struct dmac_chan *ch, const struct chaos_op *o)
{
	uint8_t *dst = c->reg[o->dst_reg].mem + o->dst_off;

	if (o->fill)
		return dmac_fill(ch, dst, o->pattern, o->len, o->flags);
	return dmac_memcpy(ch, dst, c->reg[o->src_reg].mem + o->src_off, o->len, o->flags);
}

/* Issue @o, making room when told -EAGAIN. Returns -1 when the client cannot go on. */
static int submit(struct chaos_cl *c, struct dmac_chan *ch, struct chaos_op *o, dmac_cookie_t last,
		  int64_t deadline)
{
	char buf[160];

	for (;;) {
		dmac_cookie_t k = issue(c, ch, o);

		if (k >= 0) {
			o->cookie = k;
			apply(c, o);
			return 0;
		}
		if (k != -EAGAIN) {
			chaos_undoc(c, kind_of(k), "%s: %s", chaos_op_describe(o, buf, sizeof(buf)),
				    strerror(-k));
			return k == -ENODEV ? -1 : 0;
		}
		/* Ring full, or a fenced op on a CPU channel behind engine work. */
		CHAOS_STAT_ADD(c->st, eagain, 1);
		if (last >= 0 && wait_for(c, ch, last, deadline) < 0)
			return -1;
		if (last < 0)
			sched_yield();
		if (harness_now_ms() > deadline) {
			chaos_undoc(c, UNDOC_LOST, "%s: -EAGAIN for %d ms",
				    chaos_op_describe(o, buf, sizeof(buf)), CHAOS_LOST_MS);
			return -1;
		}
	}
}

/*
 * is_complete(k) must imply that every earlier cookie is complete. Asked
 * newest first, a later answer can only be "more complete", so a correct
 * daemon never fails this however the reads interleave with completions.
 * A cookie that was complete and is in progress again, with no later one
 * complete, is counted apart (a cookie once complete stays complete: the
 * library's own CPU copies once lost that when a ring op followed them).
 * Each op is counted once.
 */
static void check_order(struct chaos_cl *c, struct dmac_chan *ch, unsigned n)
{
	const struct chaos_op *later = NULL;
	unsigned errors = 0, oldest_error = 0;
	char buf[160], buf2[160];

	for (unsigned i = n; i-- > 0;) {
		struct chaos_op *o = &plan.op[i];
		enum dmac_status s;

		if (o->cookie < 0)
			continue;
		s = dmac_is_complete(ch, o->cookie);
		if (s == DMAC_ERROR && !o->seen_error) {
			o->seen_error = 1;
			errors++;
			oldest_error = i;
		}
		if (s == DMAC_IN_PROGRESS && later && !o->seen_ooo) {
			o->seen_ooo = 1;
			CHAOS_STAT_ADD(c->st, out_of_order, 1);
			chaos_say(c, DIAG_ORDER,
				  "op %u (%s) in progress on %s while op %u (%s) is complete", i,
				  chaos_op_describe(o, buf, sizeof(buf)), dmac_chan_device(ch),
				  (unsigned)(later - plan.op),
				  chaos_op_describe(later, buf2, sizeof(buf2)));
		} else if (s == DMAC_IN_PROGRESS && o->seen_done && !o->seen_regress) {
			o->seen_regress = 1;
			CHAOS_STAT_ADD(c->st, regressions, 1);
			/* One example per process is enough. */
			if (!c->regressions++)
				chaos_say(c, DIAG_ORDER,
					  "op %u (%s) on %s was complete and is in progress again",
					  i, chaos_op_describe(o, buf, sizeof(buf)),
					  dmac_chan_device(ch));
		}
		if (s != DMAC_IN_PROGRESS) {
			o->seen_done = 1;
			later = later ? later : o;
		}
	}
	if (!errors)
		return;
	/* Only the channel's last 64 failures are remembered: ask while they are recent. */
	CHAOS_STAT_ADD(c->st, undoc[UNDOC_STATUS_ERROR], errors);
	chaos_say(c, DIAG_ERROR,
		  "undocumented error (DMAC_ERROR) for %u op(s) on %s, the oldest op %u (%s)",
		  errors, dmac_chan_device(ch), oldest_error,
		  chaos_op_describe(&plan.op[oldest_error], buf, sizeof(buf)));
}

/* Wait for every op, one of three ways, looking at the order on the way. */
static int wait_window(struct chaos_cl *c, struct dmac_chan *ch, dmac_cookie_t last,
		       int64_t deadline)
{
	const struct chaos_op *mid = &plan.op[r32(c) % plan.n];

	switch (r32(c) % 3) {
	case 0:
		/* Poll, as a client that never sleeps in the library does. */
		while (dmac_is_complete(ch, last) == DMAC_IN_PROGRESS) {
			check_order(c, ch, plan.n);
			if (harness_now_ms() > deadline) {
				chaos_undoc(c, UNDOC_LOST,
					    "cookie %d not complete after %d ms on %s", last,
					    CHAOS_LOST_MS, dmac_chan_device(ch));
				return -1;
			}
			usleep(50 + rnd(&c->trng) % 200);
		}
		break;
	case 1:
		/* Half-way first: the order is looked at while the engine is busy. */
		if (mid->cookie >= 0 && wait_for(c, ch, mid->cookie, deadline) < 0)
			return -1;
		check_order(c, ch, plan.n);
		/* fall through */
	default:
		if (wait_for(c, ch, last, deadline) < 0)
			return -1;
	}
	check_order(c, ch, plan.n);
	return 0;
}

/*
 * Free region @x while copies into and out of it are issued, and allocate
 * its successor at once (dmad may give it the same id). A fresh memfd
 * reads as zeros: expecting exactly that, rather than a pattern written
 * now, also catches a stale copy that lands before we could write one.
 */
static int replace_region(struct chaos_cl *c, unsigned x)
{
	struct chaos_region *r = &c->reg[x];
	int ret = dmac_region_free(c->client, r->mem);

	if (ret < 0) {
		chaos_undoc(c, ret == -ENODEV ? UNDOC_ENODEV : UNDOC_SETUP,
			    "dmac_region_free(r%u): %s", x, strerror(-ret));
		return -1;
	}
	r->mem = dmac_region_alloc(c->client, r->len);
	if (!r->mem) {
		chaos_undoc(c, errno == ENODEV ? UNDOC_ENODEV : UNDOC_SETUP,
			    "dmac_region_alloc(%zu) after a free: %s", r->len, strerror(errno));
		return -1;
	}
	memset(r->shadow, 0, r->len);
	CHAOS_STAT_ADD(c->st, frees, 1);
	return 0;
}

static void account(struct chaos_cl *c, uint64_t stall_us)
{
	uint64_t ops = 0, bytes = 0, fenced = 0;

	for (unsigned i = 0; i < plan.n; i++) {
		if (plan.op[i].cookie < 0)
			continue;
		ops++;
		bytes += plan.op[i].len;
		fenced += !!(plan.op[i].flags & DMAC_FENCE);
	}
	CHAOS_STAT_ADD(c->st, ops, ops);
	CHAOS_STAT_ADD(c->st, bytes, bytes);
	CHAOS_STAT_ADD(c->st, fenced, fenced);
	CHAOS_STAT_ADD(c->st, windows, 1);
	if (stall_us > c->st->max_stall_us)
		__atomic_store_n(&c->st->max_stall_us, stall_us, __ATOMIC_RELAXED);
}

int chaos_window(struct chaos_cl *c, struct dmac_chan *ch)
{
	size_t copybreak = dmac_chan_copybreak(ch);
	dmac_cookie_t last = -1;
	int64_t deadline;
	uint64_t t0;
	int ret = -1;

	c->window++;
	chaos_plan(c, &plan, copybreak);
	prepare_zones(c);
	if (plan.ring_only)
		dmac_chan_set_copybreak(ch, 0);
	deadline = harness_now_ms() + CHAOS_LOST_MS;
	for (unsigned i = 0; i < plan.n; i++) {
		if (submit(c, ch, &plan.op[i], last, deadline) < 0)
			goto out;
		last = plan.op[i].cookie >= 0 ? plan.op[i].cookie : last;
		/* Issued in bursts, and the order looked at while they run. */
		if (r32(c) % 8 == 0) {
			dmac_issue_pending(ch);
			if (r32(c) % 4 == 0)
				check_order(c, ch, i + 1);
		}
	}
	dmac_issue_pending(ch);
	if (plan.freed >= 0 && replace_region(c, (unsigned)plan.freed) < 0)
		goto out;
	t0 = now_us();
	if (last >= 0 && wait_window(c, ch, last, deadline) < 0)
		goto out;
	account(c, now_us() - t0);
	chaos_verify(c, ch, &plan);
	if (plan.freed >= 0) {
		struct chaos_region *r = &c->reg[plan.freed];

		/* From now on a known pattern that later windows check, like the others. */
		chaos_pattern(r->mem, r->len, salt(c, CHAOS_NREG + (unsigned)plan.freed));
		memcpy(r->shadow, r->mem, r->len);
	}
	ret = 0;
out:
	if (plan.ring_only)
		dmac_chan_set_copybreak(ch, copybreak);
	return ret;
}
