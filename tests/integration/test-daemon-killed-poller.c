/* SPDX-License-Identifier: MIT */
/*
 * A client that only submits and polls, never waits or asks the daemon
 * anything, learns at once that dmad was killed: dmac_memcpy() and
 * dmac_fill() return -ENODEV (on the ring path and the CPU path alike), and
 * copies that were in flight report DMAC_ERROR, not DMAC_IN_PROGRESS
 * forever; dmac_wait() on one returns -ENODEV. All within 100 ms of the
 * kill, with no request on the socket to find out.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "copier.h"
#include "harness.h"

#define LEN	 (1u << 20)
#define CHUNK	 (64u << 10)
#define NFLY	 8
#define BOUND_MS 100

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_chan *ring, *cpu;
	dmac_cookie_t fly[NFLY], k;
	char out[256];
	uint8_t *src, *dst;
	int64_t t0, took;
	unsigned int errors = 0;
	int r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "1", "--fault-injection", "--watchdog-ms", "60000",
			       NULL);
	r = dmac_connect(d->socket, "poller", &c);
	src = r == 0 ? dmac_region_alloc(c, LEN) : NULL;
	dst = src ? dmac_region_alloc(c, LEN) : NULL;
	if (dst)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ring);
	if (r == 0 && dst)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &cpu);
	if (!ok(r == 0 && dst, "regions and two channels (%d)", r))
		tap_bail("cannot set up the client");
	dmac_chan_set_copybreak(ring, 0);
	dmac_chan_set_copybreak(cpu, LEN);
	pat_fill(src, LEN, 0, 5, true);

	k = dmac_memcpy(ring, dst, src, CHUNK, 0);
	r = dmac_wait(ring, k, 10000);
	ok(r == 0 && pat_check(dst, CHUNK, 0, 5, true) == CHUNK, "a copy through dmad (%d)", r);

	/* Copies that will still be in flight when dmad dies. */
	{
		char *argv[] = {(char *)harness_env("DMACTL_BIN"), "--socket", d->socket, "fault",
				(char *)dmac_chan_device(ring),	   "hang",     NULL};

		r = harness_run(argv, out, sizeof(out), 10000);
		ok(r == 0, "dmactl fault hang exits 0 (%d)", r);
	}
	for (unsigned int i = 0; i < NFLY; i++)
		fly[i] = dmac_memcpy(ring, dst + (i + 1) * CHUNK, src + (i + 1) * CHUNK, CHUNK, 0);
	dmac_issue_pending(ring);
	ok(dmac_is_complete(ring, fly[0]) == DMAC_IN_PROGRESS, "%u copies in flight", NFLY);

	r = harness_dmad_stop(d, SIGKILL);
	ok(r == -SIGKILL, "dmad killed (%d)", r);
	t0 = harness_now_ms();

	k = dmac_memcpy(ring, dst, src, CHUNK, 0);
	ok(k == -ENODEV, "dmac_memcpy() on the ring path: -ENODEV (%d)", k);
	k = dmac_memcpy(cpu, dst, src, 64, 0);
	ok(k == -ENODEV, "dmac_memcpy() on the CPU path: -ENODEV (%d)", k);
	k = dmac_fill(ring, dst, 0, CHUNK, 0);
	ok(k == -ENODEV, "dmac_fill(): -ENODEV (%d)", k);
	dmac_issue_pending(ring);
	for (unsigned int i = 0; i < NFLY; i++)
		errors += dmac_is_complete(ring, fly[i]) != DMAC_ERROR;
	ok(!errors, "every copy in flight reports DMAC_ERROR (%u do not)", errors);
	r = dmac_wait(ring, fly[NFLY - 1], -1);
	ok(r == -ENODEV, "dmac_wait() with no timeout on one: -ENODEV (%d)", r);
	took = harness_now_ms() - t0;
	ok(took <= BOUND_MS, "all of it within %d ms of the kill (%lld ms)", BOUND_MS,
	   (long long)took);

	dmac_chan_put(cpu);
	dmac_chan_put(ring);
	dmac_disconnect(c);
	return tap_done();
}
