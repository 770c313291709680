/* SPDX-License-Identifier: MIT */
/*
 * Striping on two engines (dmad --stripe-min 64 KiB): copies of odd sizes
 * and offsets split over both arrive whole, with the guard bytes around
 * each destination intact; with small copies between them, a cookie is
 * complete only once every byte of it and of every earlier copy is in
 * place; a fenced copy that overwrites a striped copy's source lands only
 * after every part read it; DMAC_NO_STRIPE keeps a copy on one engine
 * (the engines' byte counters say which did what).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"

#define STRIPE_MIN "65536"
#define SRC_LEN	   (8u << 20)
#define JOBS	   48
#define G	   COPIER_GUARD

struct job {
	size_t src_off, dst_off, len;
	dmac_cookie_t cookie;
	bool checked;
};

static uint8_t *src, *dst;
static size_t dst_len;

/* Whether job @j's bytes and both its guards are right; diag if not. */
static bool job_right(const struct job *j, uint32_t seed)
{
	size_t bad = pat_check(dst + j->dst_off, j->len, j->src_off, seed, true);

	if (bad != j->len) {
		tap_diag("copy of %zu bytes: wrong at byte %zu", j->len, bad);
		return false;
	}
	if (pat_check(dst + j->dst_off - G, G, j->dst_off - G, seed, false) != G ||
	    pat_check(dst + j->dst_off + j->len, G, j->dst_off + j->len, seed, false) != G) {
		tap_diag("copy of %zu bytes: a guard byte was written", j->len);
		return false;
	}
	return true;
}

/* Lay out @n jobs: every other one striped (64 KiB..4 MiB), the rest small. */
static void plan(struct job *jobs, unsigned n, uint32_t *rng)
{
	size_t at = G;

	for (unsigned i = 0; i < n; i++) {
		size_t len = i % 2 ? 1 + rnd(rng) % 4096 : (64u << 10) + rnd(rng) % (4u << 20);

		jobs[i] = (struct job){
			.src_off = rnd(rng) % (SRC_LEN - len), .dst_off = at, .len = len};
		at += len + 2 * G + rnd(rng) % 64;
	}
}

static bool regions(struct dmac_client *c)
{
	dst_len = JOBS * ((4u << 20) + (64u << 10) + 4096 + 3 * G);
	src = dmac_region_alloc(c, SRC_LEN);
	dst = dmac_region_alloc(c, dst_len);
	return src && dst;
}

static bool submit(struct dmac_chan *ch, struct job *jobs, unsigned n, unsigned flags)
{
	for (unsigned i = 0; i < n; i++) {
		jobs[i].cookie = dmac_memcpy(ch, dst + jobs[i].dst_off, src + jobs[i].src_off,
					     jobs[i].len, flags);
		if (jobs[i].cookie < 0) {
			tap_diag("dmac_memcpy %u: %d", i, jobs[i].cookie);
			return false;
		}
	}
	dmac_issue_pending(ch);
	return true;
}

/*
 * Watch the cookies complete: each time one is seen complete, every copy up
 * to it must be complete and right, the bytes of its parts included.
 */
static void order_kept(struct dmac_chan *ch, uint32_t seed)
{
	struct job jobs[JOBS];
	uint32_t rng = seed;
	unsigned seen = 0, bad = 0, looks = 0;
	int64_t end = harness_now_ms() + COPIER_WAIT_MS;

	pat_fill(src, SRC_LEN, 0, seed, true);
	pat_fill(dst, dst_len, 0, seed, false);
	plan(jobs, JOBS, &rng);
	if (!ok(submit(ch, jobs, JOBS, 0), "%u copies queued, striped ones and small ones between",
		JOBS))
		return;
	while (seen < JOBS && harness_now_ms() < end) {
		unsigned top = seen;

		for (unsigned i = JOBS; i > seen; i--)
			if (dmac_is_complete(ch, jobs[i - 1].cookie) == DMAC_COMPLETE) {
				top = i;
				break;
			}
		looks++;
		for (; seen < top; seen++)
			bad += !job_right(&jobs[seen], seed);
	}
	ok(seen == JOBS, "every cookie completed (%u of %u)", seen, JOBS);
	ok(bad == 0,
	   "each complete cookie's copy and every earlier one were whole (%u wrong, %u looks)", bad,
	   looks);
}

/* A striped copy S -> D, then a fenced copy T -> S: D must hold the old S. */
static void fence_waits(struct dmac_chan *ch)
{
	const size_t len = 4u << 20;
	uint8_t *s = src, *t = src + len, *d = dst + G;
	unsigned wrong = 0;

	for (uint32_t round = 0; round < 8; round++) {
		dmac_cookie_t a, b;

		pat_fill(s, len, 0, 100 + round, true);
		pat_fill(t, len, 0, 200 + round, true);
		a = dmac_memcpy(ch, d, s, len, 0);
		b = dmac_memcpy(ch, s, t, len, DMAC_FENCE);
		dmac_issue_pending(ch);
		if (a < 0 || b < 0 || dmac_wait(ch, b, COPIER_WAIT_MS) < 0) {
			tap_diag("round %u: %d %d", round, a, b);
			wrong++;
			continue;
		}
		wrong += pat_check(d, len, 0, 100 + round, true) != len ||
			 pat_check(s, len, 0, 200 + round, true) != len;
	}
	ok(wrong == 0, "a fenced copy over a striped copy's source waits for every part (%u wrong)",
	   wrong);
}

/* Each device's "bytes" from the status, in the order listed. */
static unsigned dev_bytes(const char *socket, double *ret, unsigned max)
{
	struct jv *root = harness_status_json(socket);
	const struct jv *d;
	unsigned n = 0;

	for (; root && n < max && (d = jv_at(jv_get(root, "devices"), n)); n++)
		ret[n] = jv_num(jv_get(d, "bytes"), -1);
	jv_free(root);
	return n;
}

/* How many engines copied something of one 8 MiB copy with @flags. */
static int engines_used(const char *socket, struct dmac_chan *ch, unsigned flags)
{
	const size_t len = 8u << 20;
	double before[8], after[8], sum = 0;
	unsigned n = dev_bytes(socket, before, 8), used = 0;
	dmac_cookie_t c;

	c = dmac_memcpy(ch, dst + G, src, len, flags);
	dmac_issue_pending(ch);
	if (c < 0 || dmac_wait(ch, c, COPIER_WAIT_MS) < 0 ||
	    pat_check(dst + G, len, 0, 7, true) != len || dev_bytes(socket, after, 8) != n)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		used += after[i] > before[i];
		sum += after[i] - before[i];
	}
	if (sum != len) {
		tap_diag("the engines counted %.0f bytes for a copy of %zu", sum, len);
		return -1;
	}
	return (int)used;
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_chan *ch;
	int r;

	harness_watchdog(200);
	d = harness_dmad_start("--engines", "2", "--stripe-min", STRIPE_MIN, NULL);
	r = dmac_connect(d->socket, "stripe", &c);
	if (r == 0 && !regions(c))
		r = -ENOMEM;
	if (r == 0)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(r == 0, "a client with a channel on one of two engines (%d)", r))
		tap_bail("cannot set up the client");
	dmac_chan_set_copybreak(ch, 0);

	for (uint32_t seed = 1; seed <= 3; seed++)
		order_kept(ch, seed);
	fence_waits(ch);

	pat_fill(src, SRC_LEN, 0, 7, true);
	r = engines_used(d->socket, ch, 0);
	ok(r == 2, "an 8 MiB copy ran on both engines (%d)", r);
	r = engines_used(d->socket, ch, DMAC_NO_STRIPE);
	ok(r == 1, "with DMAC_NO_STRIPE, on one engine (%d)", r);

	dmac_chan_put(ch);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
