/* SPDX-License-Identifier: MIT */
/*
 * Only registered memory may be copied from or to: malloc'ed and stack
 * memory, ranges straddling a region's end, a freed region, zero and
 * oversized lengths and overlapping ranges are -EINVAL, below and above the
 * copybreak alike, and the channel works normally afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "copier.h"
#include "harness.h"

#define REG_LEN (64u << 10)

static struct dmac_chan *ch;

/* Both sides of the copybreak: the CPU path must check as much as the ring. */
static void einval(void *dst, const void *src, size_t len, const char *what)
{
	size_t saved = dmac_chan_copybreak(ch);
	dmac_cookie_t big, small;

	dmac_chan_set_copybreak(ch, 0);
	big = dmac_memcpy(ch, dst, src, len, 0);
	dmac_chan_set_copybreak(ch, SIZE_MAX);
	small = dmac_memcpy(ch, dst, src, len, 0);
	dmac_chan_set_copybreak(ch, saved);
	ok(big == -EINVAL && small == -EINVAL, "%s: -EINVAL via ring (%d) and via CPU (%d)", what,
	   big, small);
}

static void fill_einval(void *dst, size_t len, const char *what)
{
	dmac_cookie_t r = dmac_fill(ch, dst, 0x1122334455667788ull, len, 0);

	ok(r == -EINVAL, "%s: -EINVAL (%d)", what, r);
}

/* After each refusal the channel still copies, and correctly. */
static bool still_works(uint8_t *a, uint8_t *b)
{
	dmac_cookie_t c;

	pat_fill(a, 4096, 0, 5, true);
	pat_fill(b, 4096, 0, 5, false);
	c = dmac_memcpy(ch, b, a, 4096, 0);
	dmac_issue_pending(ch);
	return c >= 0 && dmac_wait(ch, c, COPIER_WAIT_MS) == 0 &&
	       pat_check(b, 4096, 0, 5, true) == 4096;
}

int main(void)
{
	struct dmac_client *c = NULL;
	struct harness_dmad *d;
	uint8_t stack[8192], *heap, *r1, *r2, *gone, *lo, *hi;
	int r;

	harness_watchdog(60);
	d = harness_dmad_start(NULL);
	r = dmac_connect(d->socket, "einval", &c);
	if (!ok(r == 0, "connect (%d)", r))
		return tap_done();
	r1 = dmac_region_alloc(c, REG_LEN);
	r2 = dmac_region_alloc(c, REG_LEN);
	gone = dmac_region_alloc(c, REG_LEN);
	heap = malloc(8192);
	r = dmac_chan_get(c, DMAC_CAP_COPY | DMAC_CAP_FILL, &ch);
	if (!ok(r1 && r2 && gone && heap && r == 0, "regions and a channel (%d)", r))
		return tap_done();
	memset(stack, 0, sizeof(stack));
	lo = r1 < r2 ? r1 : r2;
	lo = gone < lo ? gone : lo;
	hi = r1 > r2 ? r1 : r2;
	hi = gone > hi ? gone : hi;

	einval(r1, heap, 4096, "copy from malloc'ed memory");
	einval(heap, r1, 4096, "copy to malloc'ed memory");
	einval(r1, stack, 4096, "copy from stack memory");
	einval(stack, r1, 4096, "copy to stack memory");
	einval(heap, stack, 100, "copy between two unregistered buffers");
	einval(r1 + REG_LEN - 50, r2, 100, "destination straddling the region end");
	einval(r1, r2 + REG_LEN - 50, 100, "source straddling the region end");
	/* Regions may be adjacent: these two must have no region next to them. */
	einval(hi + REG_LEN, r2, 1, "destination starting at the end of the highest region");
	einval(lo - 1, r2, 16, "destination starting one byte before the lowest region");
	einval(r1, r2, 0, "len 0");
	einval(r1, r2, (size_t)1 << 32, "len 4 GiB");
	einval(r1, r1 + 100, 200, "overlapping source and destination");
	einval(r1 + 100, r1, 101, "destination overlapping the source by one byte");
	fill_einval(heap, 256, "fill into malloc'ed memory");
	fill_einval(r1 + REG_LEN - 8, 16, "fill straddling the region end");
	fill_einval(r1, 0, "fill of len 0");
	ok(still_works(r1, r2), "the channel copies correctly after all those refusals");

	r = dmac_region_free(c, gone);
	ok(r == 0, "dmac_region_free (%d)", r);
	einval(gone, r1, 4096, "copy into a freed region");
	einval(r1, gone, 4096, "copy from a freed region");
	r = dmac_region_free(c, heap);
	ok(r == -EINVAL, "dmac_region_free of malloc'ed memory: -EINVAL (%d)", r);
	r = dmac_region_free(c, r1 + 64);
	ok(r == -EINVAL, "dmac_region_free of an address inside a region: -EINVAL (%d)", r);
	ok(still_works(r2, r1), "the channel still copies correctly");

	free(heap);
	dmac_chan_put(ch);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
