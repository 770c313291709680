/* SPDX-License-Identifier: MIT */
/*
 * Fill the ring to capacity and keep it full for thousands of copies: a full
 * ring says -EAGAIN (never overwrites), cookies are consecutive, completion
 * is in cookie order at every moment (is_complete(c) implies it for every
 * earlier cookie), and one wait on the last cookie covers all of them.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "copier.h"
#include "dmad_ring.h"
#include "harness.h"

#define TOTAL (3 * DMAD_PROTO_SQ_ENTRIES)
#define SLOT  4096u
#define SPAN  (TOTAL * SLOT)

static dmac_cookie_t cookie[TOTAL];
static unsigned int order_bad, order_partial;

static size_t job_len(unsigned int i)
{
	return 1 + (i * 977u) % (SLOT - 2 * COPIER_GUARD);
}

/*
 * Newest first: once a cookie reads complete, every older one must too,
 * since completion only moves forward while we scan backwards.
 */
static void check_order(struct dmac_chan *ch, unsigned int n)
{
	bool seen_complete = false, seen_pending = false;

	for (unsigned int i = n; i-- > 0;) {
		enum dmac_status s = dmac_is_complete(ch, cookie[i]);

		if (s == DMAC_COMPLETE) {
			seen_complete = true;
		} else {
			seen_pending = true;
			if (seen_complete && order_bad++ < 5)
				tap_diag("cookie %d is %d while a later one is complete", cookie[i],
					 s);
		}
	}
	if (seen_complete && seen_pending)
		order_partial++;
}

static dmac_cookie_t copy(struct dmac_chan *ch, uint8_t *dst, uint8_t *src, unsigned int i)
{
	size_t off = (size_t)i * SLOT + COPIER_GUARD;

	return dmac_memcpy(ch, dst + off, src + off, job_len(i), 0);
}

static unsigned int verify(const uint8_t *dst)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < TOTAL; i++) {
		size_t base = (size_t)i * SLOT, len = job_len(i), off = base + COPIER_GUARD;
		size_t tail = base + SLOT - (off + len);

		if (pat_check(dst + base, COPIER_GUARD, base, 1, false) < COPIER_GUARD ||
		    pat_check(dst + off, len, off, 1, true) < len ||
		    pat_check(dst + off + len, tail, off + len, 1, false) < tail) {
			if (bad++ < 5)
				tap_diag("copy %u (cookie %d, %zu bytes at +%zu) wrong", i,
					 cookie[i], len, off);
		}
	}
	return bad;
}

int main(void)
{
	struct dmac_client *c = NULL;
	struct dmac_chan *ch = NULL;
	struct harness_dmad *d;
	unsigned int n = 0, first_full = 0, eagain = 0, gaps = 0, pending = 0;
	uint8_t *src, *dst;
	int r;

	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	r = dmac_connect(d->socket, "many-inflight", &c);
	if (!ok(r == 0, "connect (%d)", r))
		return tap_done();
	src = dmac_region_alloc(c, SPAN);
	dst = dmac_region_alloc(c, SPAN);
	r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(src && dst && r == 0, "two %u MiB regions and a channel (%d)", SPAN >> 20, r))
		return tap_done();
	dmac_chan_set_copybreak(ch, 0);
	pat_fill(src, SPAN, 0, 1, true);
	pat_fill(dst, SPAN, 0, 1, false);

	/* Nothing issued yet: the ring must fill up and say so. */
	while (n < 2 * DMAD_PROTO_SQ_ENTRIES) {
		cookie[n] = copy(ch, dst, src, n);
		if (cookie[n] < 0)
			break;
		n++;
	}
	first_full = n;
	ok(n < 2 * DMAD_PROTO_SQ_ENTRIES && cookie[n] == -EAGAIN,
	   "unissued submissions stop with -EAGAIN (%d) after %u, ring holds %u", cookie[n], n,
	   DMAD_PROTO_SQ_ENTRIES);
	ok(n > 0 && n <= DMAD_PROTO_SQ_ENTRIES, "%u copies queued before the ring was full", n);

	/* Keep it full: on -EAGAIN, issue and wait for half of what is out. */
	dmac_issue_pending(ch);
	while (n < TOTAL) {
		cookie[n] = copy(ch, dst, src, n);
		if (cookie[n] == -EAGAIN) {
			eagain++;
			dmac_issue_pending(ch);
			check_order(ch, n);
			r = dmac_wait(ch, cookie[n - first_full / 2], COPIER_WAIT_MS);
			if (r < 0 || eagain > 4 * TOTAL)
				break;
			continue;
		}
		if (cookie[n] < 0)
			break;
		if (n &&
		    cookie[n] != (dmac_cookie_t)dmad_proto_cookie_next((uint32_t)cookie[n - 1]))
			gaps++;
		if (++n % 64 == 0)
			dmac_issue_pending(ch);
	}
	if (!ok(n == TOTAL, "%u copies submitted keeping the ring full (%u -EAGAIN; last %d)", n,
		eagain, n < TOTAL ? cookie[n] : 0))
		return tap_done();
	ok(gaps == 0, "cookies are consecutive (%u gaps)", gaps);

	dmac_issue_pending(ch);
	check_order(ch, TOTAL);
	r = dmac_wait(ch, cookie[TOTAL - 1], COPIER_WAIT_MS);
	ok(r == 0, "one dmac_wait on the last cookie (%d)", r);
	for (unsigned int i = 0; i < TOTAL; i++)
		if (dmac_is_complete(ch, cookie[i]) != DMAC_COMPLETE)
			pending++;
	ok(pending == 0, "every earlier cookie is DMAC_COMPLETE (%u are not)", pending);
	check_order(ch, TOTAL);
	ok(order_bad == 0,
	   "completion seen in cookie order at every check (%u violations, %u "
	   "checks caught completion part way)",
	   order_bad, order_partial);
	ok(verify(dst) == 0, "all %u destinations hold their source, guards intact", TOTAL);
	ok(pat_check(src, SPAN, 0, 1, true) == SPAN, "sources unchanged");

	dmac_chan_put(ch);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
