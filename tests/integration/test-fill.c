/* SPDX-License-Identifier: MIT */
/*
 * Fills of many sizes, patterns and alignments, on a channel that sends
 * every fill to the daemon and on one that uses the default copybreak:
 * byte i of the destination is byte i % 8 of the pattern in memory order,
 * and the guard bytes around it are untouched.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "copier.h"
#include "harness.h"

#define DST_LEN	  (1u << 20)
#define MAX_LEN	  (128u << 10)
#define ROUNDS	  40
#define PER_ROUND 24

struct fill_job {
	size_t off, len;
	uint64_t pattern;
	dmac_cookie_t cookie;
};

static size_t check_fill(const uint8_t *p, size_t len, uint64_t pattern)
{
	uint8_t b[8];

	memcpy(b, &pattern, sizeof(b));
	for (size_t i = 0; i < len; i++)
		if (p[i] != b[i % 8])
			return i;
	return len;
}

static uint64_t pick_pattern(uint32_t *rng, unsigned int i)
{
	static const uint64_t fixed[] = {0, UINT64_MAX, 0x0102030405060708ull,
					 0x8000000000000001ull, 0xa5a5a5a55a5a5a5aull};

	if (i < sizeof(fixed) / sizeof(fixed[0]))
		return fixed[i];
	return (uint64_t)rnd(rng) << 32 | rnd(rng);
}

/* One round: lay out guarded fills, submit, wait, verify. Returns 0 or why not. */
static int fill_round(struct dmac_chan *ch, uint8_t *dst, uint32_t *rng, unsigned int round)
{
	struct fill_job jobs[PER_ROUND];
	size_t pos = rnd(rng) % 64, end, bad;
	dmac_cookie_t last = -1;
	unsigned int n = 0;
	int r;

	while (n < PER_ROUND) {
		struct fill_job *j = &jobs[n];

		/* Fixed small sizes first, to hit every length modulo 8. */
		j->len = n < 17 && round % 2 ? n + 1 : rnd_len(rng, MAX_LEN);
		if (pos + 2 * COPIER_GUARD + j->len > DST_LEN)
			break;
		j->off = pos + COPIER_GUARD;
		j->pattern = pick_pattern(rng, round * PER_ROUND + n);
		pos = j->off + j->len + COPIER_GUARD + rnd(rng) % 64;
		n++;
	}
	end = pos < DST_LEN ? pos : DST_LEN;
	pat_fill(dst, end, 0, round, false);

	for (unsigned int i = 0; i < n; i++) {
		jobs[i].cookie = dmac_fill(ch, dst + jobs[i].off, jobs[i].pattern, jobs[i].len, 0);
		if (jobs[i].cookie == -EAGAIN && last >= 0) {
			dmac_issue_pending(ch);
			dmac_wait(ch, last, COPIER_WAIT_MS);
			jobs[i].cookie =
				dmac_fill(ch, dst + jobs[i].off, jobs[i].pattern, jobs[i].len, 0);
		}
		if (jobs[i].cookie < 0) {
			tap_diag("dmac_fill of %zu bytes: %s", jobs[i].len,
				 strerror(-jobs[i].cookie));
			return jobs[i].cookie;
		}
		last = jobs[i].cookie;
	}
	dmac_issue_pending(ch);
	r = dmac_wait(ch, last, COPIER_WAIT_MS);
	if (r < 0) {
		tap_diag("dmac_wait(%d): %s", last, strerror(-r));
		return r;
	}

	pos = 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct fill_job *j = &jobs[i];

		if (dmac_is_complete(ch, j->cookie) != DMAC_COMPLETE) {
			tap_diag("fill cookie %d not complete after waiting for %d", j->cookie,
				 last);
			return -EILSEQ;
		}
		bad = pat_check(dst + pos, j->off - pos, pos, round, false);
		if (bad < j->off - pos) {
			tap_diag("guard byte dst+%zu before fill %u changed", pos + bad, i);
			return -EILSEQ;
		}
		bad = check_fill(dst + j->off, j->len, j->pattern);
		if (bad < j->len) {
			tap_diag("fill %u (%zu bytes at dst+%zu, pattern %#llx): byte %zu is %#x",
				 i, j->len, j->off, (unsigned long long)j->pattern, bad,
				 dst[j->off + bad]);
			return -EILSEQ;
		}
		pos = j->off + j->len;
	}
	bad = pat_check(dst + pos, end - pos, pos, round, false);
	if (bad < end - pos) {
		tap_diag("guard byte dst+%zu after the last fill changed", pos + bad);
		return -EILSEQ;
	}
	return 0;
}

int main(void)
{
	struct dmac_client *c = NULL;
	struct dmac_chan *ch[2] = {NULL, NULL};
	struct harness_dmad *d;
	uint32_t rng = 77;
	uint8_t *dst;
	int r;

	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	r = dmac_connect(d->socket, "fill", &c);
	if (!ok(r == 0, "connect (%d)", r))
		return tap_done();
	dst = dmac_region_alloc(c, DST_LEN);
	r = dmac_chan_get(c, DMAC_CAP_FILL, &ch[0]);
	if (r == 0)
		r = dmac_chan_get(c, DMAC_CAP_FILL, &ch[1]);
	if (!ok(dst && r == 0, "region and two fill channels (%d)", r))
		return tap_done();
	dmac_chan_set_copybreak(ch[0], 0);

	for (int k = 0; k < 2; k++) {
		unsigned int round;

		for (round = 0; round < ROUNDS; round++)
			if (fill_round(ch[k], dst, &rng, round) < 0)
				break;
		ok(round == ROUNDS, "%s: %u rounds of fills verified byte by byte, guards intact",
		   k ? "default copybreak" : "copybreak 0", round);
	}
	dmac_chan_put(ch[0]);
	dmac_chan_put(ch[1]);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
