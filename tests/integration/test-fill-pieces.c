/* SPDX-License-Identifier: MIT */
/*
 * A long fill that dmad's worker makes itself (dma_skeleton has no fill
 * operation) goes in pieces, so that another client's copy on the same
 * worker completes while the fill is still going, rather than after all
 * of it: one client's 4 GiB fill used to hold every channel of its worker
 * (a neighbour timed out at 20 s). Once the fill has visibly started, a
 * neighbour's copy is submitted and waited for, and the fill must still be
 * in progress then; in one piece it would have ended first. The fill's
 * every byte and the guard after it are checked. On one engine (the
 * channels share it: fair.c's turns) and on two (each channel alone on its
 * engine, one worker for both).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "copier.h"
#include "harness.h"

#define FILL_LEN (256u << 20)
#define GUARD	 4096u
#define PATTERN	 0x0123456789abcdefull
#define START_MS 20000

static size_t check_fill(const uint8_t *p, size_t len)
{
	uint8_t b[8];

	memcpy(b, &(uint64_t){PATTERN}, sizeof(b));
	for (size_t i = 0; i < len; i++)
		if (p[i] != b[i % 8])
			return i;
	return len;
}

/* Until the fill's first word is there: the worker is at it. */
static bool started(const uint8_t *dst)
{
	int64_t end = harness_now_ms() + START_MS;

	while (memcmp(dst, &(uint64_t){PATTERN}, 8)) {
		if (harness_now_ms() > end)
			return false;
		nanosleep(&(struct timespec){0, 100000}, NULL);
	}
	return true;
}

static void run(const char *engines)
{
	struct harness_dmad *d = harness_dmad_start("--engines", engines, NULL);
	struct dmac_client *c;
	struct dmac_chan *ch;
	struct copier k;
	enum dmac_status during;
	dmac_cookie_t fill;
	uint8_t *dst;
	size_t at;
	int r;

	if (dmac_connect(d->socket, "fill-pieces", &c) < 0)
		tap_bail("dmac_connect");
	dst = dmac_region_alloc(c, FILL_LEN + GUARD);
	if (!dst || dmac_chan_get(c, DMAC_CAP_COPY, &ch) < 0)
		tap_bail("region or channel for the fill");
	dmac_chan_set_copybreak(ch, 0);
	if (copier_init(&k, d->socket, "fill-neighbour", 1 << 20, 1 << 20, 4096, 7) < 0)
		tap_bail("the neighbour");
	dmac_chan_set_copybreak(k.ch, 0);
	tap_diag("--engines %s: the fill on %s, the neighbour on %s", engines, dmac_chan_device(ch),
		 dmac_chan_device(k.ch));
	memset(dst + FILL_LEN, 0xa5, GUARD);

	fill = dmac_fill(ch, dst, PATTERN, FILL_LEN, 0);
	dmac_issue_pending(ch);
	ok(fill > 0 && started(dst), "--engines %s: a %u MiB fill started (%d)", engines,
	   FILL_LEN >> 20, fill);
	r = copier_round(&k, 1);
	during = dmac_is_complete(ch, fill);
	ok(r == 0, "a neighbour's copy meanwhile, verified (%d)", r);
	ok(during == DMAC_IN_PROGRESS, "and it completed while the fill was still going (%d)",
	   during);

	r = dmac_wait(ch, fill, COPIER_WAIT_MS);
	at = check_fill(dst, FILL_LEN);
	ok(r == 0 && at == FILL_LEN,
	   "the fill completes, every byte the pattern's (%d, first wrong %zu)", r, at);
	for (at = 0; at < GUARD && dst[FILL_LEN + at] == 0xa5;)
		at++;
	ok(at == GUARD, "and the guard after it is untouched (first changed: %zu)", at);
	copier_fini(&k);
	dmac_chan_put(ch);
	dmac_disconnect(c);
	harness_dmad_finish(d);
}

int main(void)
{
	harness_watchdog(240);
	run("1");
	run("2");
	return tap_done();
}
