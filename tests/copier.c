/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"

#define ROUND_MAX	128 /* copies per round */
#define BYSTANDER_MAX_S 300

void pat_fill(uint8_t *p, size_t len, uint64_t pos, uint32_t seed, bool src)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat_byte(pos + i, seed, src);
}

size_t pat_check(const uint8_t *p, size_t len, uint64_t pos, uint32_t seed, bool src)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != pat_byte(pos + i, seed, src))
			return i;
	return len;
}

uint32_t rnd(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x2545f491u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

size_t rnd_len(uint32_t *state, size_t max)
{
	unsigned int bits = 0;
	size_t span;

	while (bits < 63 && (1ull << (bits + 1)) <= max)
		bits++;
	span = (size_t)1 << (rnd(state) % (bits + 1));
	return 1 + (size_t)rnd(state) % (span < max ? span : max);
}

int copier_init(struct copier *k, const char *socket, const char *name, size_t src_len,
		size_t dst_len, size_t max_len, uint32_t seed)
{
	int r;

	*k = (struct copier){.src_len = src_len,
			     .dst_len = dst_len,
			     .max_len = max_len,
			     .seed = seed,
			     .rng = seed * 2654435761u + 1};
	r = dmac_connect(socket, name, &k->client);
	if (r < 0) {
		tap_diag("%s: dmac_connect: %s", name, strerror(-r));
		return r;
	}
	k->src = dmac_region_alloc(k->client, src_len);
	k->dst = k->src ? dmac_region_alloc(k->client, dst_len) : NULL;
	if (!k->dst) {
		r = -errno;
		tap_diag("%s: dmac_region_alloc: %s", name, strerror(errno));
		return r;
	}
	r = dmac_chan_get(k->client, DMAC_CAP_COPY, &k->ch);
	if (r < 0) {
		tap_diag("%s: dmac_chan_get: %s", name, strerror(-r));
		return r;
	}
	pat_fill(k->src, src_len, 0, seed, true);
	return 0;
}

void copier_fini(struct copier *k)
{
	dmac_chan_put(k->ch);
	dmac_disconnect(k->client);
	k->ch = NULL;
	k->client = NULL;
}

struct job {
	size_t src_off, dst_off, len;
	dmac_cookie_t cookie;
};

/* Submit, making room by waiting for what is queued when the ring is full. */
static dmac_cookie_t submit(struct copier *k, const struct job *j, dmac_cookie_t last)
{
	for (int tries = 0;; tries++) {
		dmac_cookie_t c =
			dmac_memcpy(k->ch, k->dst + j->dst_off, k->src + j->src_off, j->len, 0);
		int r;

		if (c != -EAGAIN || tries == 3)
			return c;
		dmac_issue_pending(k->ch);
		r = last >= 0 ? dmac_wait(k->ch, last, COPIER_WAIT_MS) : 0;
		if (r < 0)
			return r;
	}
}

static int verify(struct copier *k, const struct job *jobs, unsigned int n, size_t end)
{
	size_t pos = 0, bad;

	for (unsigned int i = 0; i < n; i++) {
		const struct job *j = &jobs[i];

		bad = pat_check(k->dst + pos, j->dst_off - pos, pos, k->seed, false);
		if (bad < j->dst_off - pos) {
			tap_diag("guard/gap byte dst+%zu before copy %u (%zu bytes to dst+%zu) "
				 "changed: %#x",
				 pos + bad, i, j->len, j->dst_off, k->dst[pos + bad]);
			return -EILSEQ;
		}
		bad = pat_check(k->dst + j->dst_off, j->len, j->src_off, k->seed, true);
		if (bad < j->len) {
			tap_diag("copy %u (cookie %d, %zu bytes src+%zu -> dst+%zu): byte %zu is "
				 "%#x, want %#x",
				 i, j->cookie, j->len, j->src_off, j->dst_off, bad,
				 k->dst[j->dst_off + bad],
				 pat_byte(j->src_off + bad, k->seed, true));
			return -EILSEQ;
		}
		bad = pat_check(k->src + j->src_off, j->len, j->src_off, k->seed, true);
		if (bad < j->len) {
			tap_diag("copy %u changed its source at src+%zu", i, j->src_off + bad);
			return -EILSEQ;
		}
		pos = j->dst_off + j->len;
	}
	bad = pat_check(k->dst + pos, end - pos, pos, k->seed, false);
	if (bad < end - pos) {
		tap_diag("guard byte dst+%zu after the last copy changed: %#x", pos + bad,
			 k->dst[pos + bad]);
		return -EILSEQ;
	}
	return 0;
}

int copier_round(struct copier *k, unsigned int n)
{
	struct job jobs[ROUND_MAX];
	dmac_cookie_t last = -1;
	size_t pos = rnd(&k->rng) % 64, end;
	unsigned int m = 0;
	int r;

	if (n > ROUND_MAX)
		n = ROUND_MAX;
	/* Lay out the destinations first: each between guards, random alignment. */
	while (m < n) {
		struct job *j = &jobs[m];

		j->len = rnd_len(&k->rng, k->max_len);
		if (pos + 2 * COPIER_GUARD + j->len > k->dst_len)
			break;
		j->dst_off = pos + COPIER_GUARD;
		j->src_off = rnd(&k->rng) % (k->src_len - j->len + 1);
		pos = j->dst_off + j->len + COPIER_GUARD + rnd(&k->rng) % 64;
		m++;
	}
	end = pos < k->dst_len ? pos : k->dst_len;
	pat_fill(k->dst, end, 0, k->seed, false);

	for (unsigned int i = 0; i < m; i++) {
		jobs[i].cookie = submit(k, &jobs[i], last);
		if (jobs[i].cookie < 0) {
			tap_diag("dmac_memcpy of %zu bytes: %s", jobs[i].len,
				 strerror(-jobs[i].cookie));
			return jobs[i].cookie;
		}
		last = jobs[i].cookie;
		if (rnd(&k->rng) % 8 == 0)
			dmac_issue_pending(k->ch);
	}
	dmac_issue_pending(k->ch);
	if (m && (r = dmac_wait(k->ch, last, COPIER_WAIT_MS)) < 0) {
		tap_diag("dmac_wait(%d): %s", last, strerror(-r));
		return r;
	}
	for (unsigned int i = 0; i < m; i++) {
		enum dmac_status s = dmac_is_complete(k->ch, jobs[i].cookie);

		if (s != DMAC_COMPLETE) {
			tap_diag("cookie %d before the waited-for %d: status %d", jobs[i].cookie,
				 last, s);
			return -EILSEQ;
		}
		k->bytes += jobs[i].len;
	}
	k->copies += m;
	return verify(k, jobs, m, end);
}

int copier_ring_and_fill(struct copier *k, unsigned int rounds)
{
	const uint64_t pattern = 0x0807060504030201ull;
	uint8_t buf8[8];
	dmac_cookie_t c;
	unsigned int i;
	int r;

	dmac_chan_set_copybreak(k->ch, 0);
	for (i = 0, r = 0; i < rounds && r == 0; i++)
		r = copier_round(k, 32);
	if (r)
		return r;
	memcpy(buf8, &pattern, sizeof(buf8));
	c = dmac_fill(k->ch, k->dst + 3, pattern, 1000, 0);
	if (c < 0 || (r = dmac_wait(k->ch, c, COPIER_WAIT_MS)) != 0)
		return tap_diag("a fill: cookie %d, wait %d", c, r), c < 0 ? c : r;
	if (dmac_is_complete(k->ch, c) != DMAC_COMPLETE)
		return tap_diag("the fill does not report DMAC_COMPLETE"), -EIO;
	for (i = 0; i < 1000 && k->dst[3 + i] == buf8[i % 8]; i++)
		;
	if (i != 1000)
		return tap_diag("the fill's byte %u is wrong", i), -EILSEQ;
	return 0;
}

static bool stop_requested(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) != 0;
}

static void bystander_main(const char *socket, int stop_fd)
{
	struct copier k;
	int64_t end = harness_now_ms() + BYSTANDER_MAX_S * 1000;
	unsigned int rounds = 0;
	int r;

	r = copier_init(&k, socket, "bystander", 1 << 20, 1 << 20, 64 << 10, (uint32_t)getpid());
	if (r < 0)
		_exit(1);
	/* Everything through the ring, so the daemon's path is the one checked. */
	dmac_chan_set_copybreak(k.ch, 0);
	/* At least one round, even if the test was quicker than our setup. */
	do {
		r = copier_round(&k, 16);
		if (r < 0) {
			tap_diag("bystander: round %u failed: %s", rounds, strerror(-r));
			_exit(1);
		}
		rounds++;
	} while (!stop_requested(stop_fd) && harness_now_ms() < end);
	copier_fini(&k);
	tap_diag("bystander: %u rounds, %llu copies verified", rounds,
		 (unsigned long long)k.copies);
	_exit(rounds ? 0 : 1);
}

void bystander_start(struct bystander *b, const char *socket)
{
	int p[2];

	if (pipe(p) < 0)
		tap_bail("pipe: %s", strerror(errno));
	b->pid = harness_fork();
	if (b->pid == 0) {
		close(p[1]);
		bystander_main(socket, p[0]);
	}
	close(p[0]);
	b->stop_fd = p[1];
}

bool bystander_stop(struct bystander *b)
{
	close(b->stop_fd);
	return harness_wait_child(b->pid, 2 * COPIER_WAIT_MS, "bystander");
}
