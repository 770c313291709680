/* SPDX-License-Identifier: MIT */
/*
 * `--engines cpu`: no software dmadev, and channels go to dmad's CPU engine
 * rather than to the library's own copies. Copies and fills through the
 * ring are right, the copybreak says that a CPU engine never beats memcpy,
 * and a client that never calls dmac_wait() (it spins on dmac_is_complete()
 * and may share its CPU with the worker) still sees every copy complete.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define ROUNDS	  20
#define POLLED	  500
#define POLL_S	  30 /* for all of them: liveness, not speed */
#define MAX_COPYB 65536

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The ring is served by a worker: no DMAD_PROTO_RF_CPU, unlike --engines 0. */
static void check_ring_flag(const char *socket)
{
	uint32_t flags = 0;
	int r = raw_ring_flags(socket, "cpu-engine-raw", &flags);

	ok(r == 0 && !(flags & DMAD_PROTO_RF_CPU),
	   "a raw CHAN_GET's ring has no DMAD_PROTO_RF_CPU (%d, flags %#x)", r, flags);
}

/* Copies waited for only by spinning on dmac_is_complete(). */
static int polled_copies(struct copier *k)
{
	double deadline = now_s() + POLL_S;

	for (unsigned i = 0; i < POLLED; i++) {
		size_t len = 4096, off = (size_t)(i % 64) * len;
		dmac_cookie_t c = dmac_memcpy(k->ch, k->dst + off, k->src + off, len, 0);
		enum dmac_status s;

		if (c < 0)
			return tap_diag("copy %u: %d", i, c), c;
		dmac_issue_pending(k->ch);
		while ((s = dmac_is_complete(k->ch, c)) == DMAC_IN_PROGRESS)
			if (now_s() > deadline)
				return tap_diag("copy %u still in progress after %d s", i, POLL_S),
				       -ETIMEDOUT;
		if (s != DMAC_COMPLETE)
			return tap_diag("copy %u: DMAC_ERROR", i), -EIO;
		if (pat_check(k->dst + off, len, off, k->seed, true) != len)
			return tap_diag("copy %u: wrong data", i), -EILSEQ;
	}
	return 0;
}

int main(void)
{
	struct harness_dmad *d;
	struct copier k;
	int r;

	harness_watchdog(120);
	d = harness_dmad_start("--engines", "cpu", NULL);
	r = copier_init(&k, d->socket, "cpu-engine", 1 << 20, 4 << 20, 256 << 10, 29);
	if (!ok(r == 0, "a channel on dmad's CPU engine (%d)", r))
		return tap_done();
	ok(strcmp(dmac_chan_device(k.ch), "cpu") == 0, "the channel is on \"cpu\" (device \"%s\")",
	   dmac_chan_device(k.ch));
	ok(dmac_chan_copybreak(k.ch) == MAX_COPYB,
	   "its copybreak is %d: a CPU engine never beats memcpy (%zu)", MAX_COPYB,
	   dmac_chan_copybreak(k.ch));

	/* Every copy through the ring, to the worker. */
	r = copier_ring_and_fill(&k, ROUNDS);
	ok(r == 0,
	   "%u rounds of random copies through the ring and a fill verified, guards "
	   "intact (%d)",
	   ROUNDS, r);

	r = polled_copies(&k);
	ok(r == 0, "%d copies waited for by spinning on dmac_is_complete() alone (%d)", POLLED, r);
	copier_fini(&k);
	check_ring_flag(d->socket);
	harness_dmad_finish(d);
	return tap_done();
}
