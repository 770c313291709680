/* SPDX-License-Identifier: MIT */
/*
 * The daemon goes away under a client with a channel: politely (SIGTERM)
 * and not (SIGKILL). Nothing hangs and nothing says "busy": dmac_wait()
 * returns -ENODEV promptly, even with no timeout; dmac_memcpy() returns
 * -ENODEV at the latest when the ring is full; dmac_dispatch(),
 * dmac_chan_get() and dmac_region_alloc() report -ENODEV. After SIGTERM the
 * copies issued before it have completed and a SHUTDOWN event was sent.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "dmad_ring.h"
#include "harness.h"

#define LEN	  (16u << 20)
#define CHUNK	  (1u << 20)
#define PROMPT_MS 3000
#define WAIT_MS	  10000

static unsigned int shutdowns;

static void on_event(const struct dmac_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == DMAC_EVENT_SHUTDOWN)
		shutdowns++;
}

/* dmac_wait(@c, no timeout) in a child, which must come back within bounds. */
static bool wait_forever_returns(struct dmac_chan *ch, dmac_cookie_t c)
{
	pid_t pid = harness_fork();

	if (pid == 0)
		_exit(dmac_wait(ch, c, -1) == -ENODEV ? 0 : 1);
	return harness_wait_child(pid, PROMPT_MS + 2000, "dmac_wait(-1) after the daemon died");
}

static void round_trip(int sig)
{
	const char *how = sig == SIGTERM ? "SIGTERM" : "SIGKILL";
	struct dmac_client *c = NULL;
	struct dmac_chan *ch = NULL, *ch2 = NULL;
	dmac_cookie_t issued[LEN / CHUNK], last = -1, pending, r = 0;
	struct harness_dmad *d;
	uint8_t *src, *dst;
	unsigned int i, n, eagain;
	int64_t t0, dt;
	int ret;

	shutdowns = 0;
	d = harness_dmad_start(NULL);
	ret = dmac_connect(d->socket, how, &c);
	if (!ok(ret == 0, "%s: connect (%d)", how, ret))
		return;
	dmac_set_event_cb(c, on_event, NULL);
	src = dmac_region_alloc(c, LEN);
	dst = dmac_region_alloc(c, LEN);
	ret = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(src && dst && ret == 0, "%s: regions and a channel (%d)", how, ret))
		return;
	dmac_chan_set_copybreak(ch, 0);
	pat_fill(src, LEN, 0, 11, true);
	pat_fill(dst, LEN, 0, 11, false);

	/* Issued copies in flight, then one queued but never issued. */
	for (i = 0; i < LEN / CHUNK - 1; i++)
		last = issued[i] = dmac_memcpy(ch, dst + i * CHUNK, src + i * CHUNK, CHUNK, 0);
	dmac_issue_pending(ch);
	pending = dmac_memcpy(ch, dst + i * CHUNK, src + i * CHUNK, CHUNK, 0);
	if (!ok(last >= 0 && pending >= 0, "%s: copies queued (%d, %d)", how, last, pending))
		return;

	ret = harness_dmad_stop(d, sig);
	ok(ret == (sig == SIGTERM ? 0 : -SIGKILL), "dmad ended by %s (status %d)", how, ret);

	if (sig == SIGTERM) {
		/* The daemon drains what it was given before it goes. */
		for (n = 0; n < i && dmac_is_complete(ch, issued[n]) == DMAC_COMPLETE; n++)
			;
		ok(n == i && pat_check(dst, (size_t)i * CHUNK, 0, 11, true) == (size_t)i * CHUNK,
		   "SIGTERM: the %u copies issued before it completed, data right (%u did)", i, n);
	}

	/*
	 * Ring full or not, a dead daemon is -ENODEV. After SIGKILL the
	 * library may say -EAGAIN while the kernel is still tearing down the
	 * daemon's socket (io_uring lets go of it asynchronously), but not
	 * for long; after SIGTERM the ring says DEAD before the daemon exits.
	 */
	t0 = harness_now_ms();
	for (n = 0, eagain = 0; harness_now_ms() - t0 < PROMPT_MS; n++) {
		r = dmac_memcpy(ch, dst, src + CHUNK, 4096, 0);
		if (r == -EAGAIN) {
			eagain++;
			usleep(1000);
		} else if (r < 0) {
			break;
		}
	}
	ok(r == -ENODEV, "%s: dmac_memcpy returns -ENODEV after %u more submissions (%d)", how, n,
	   r);
	if (sig == SIGTERM)
		ok(eagain == 0, "SIGTERM: never -EAGAIN on the way (%u)", eagain);
	else
		tap_diag("SIGKILL: %u x -EAGAIN before -ENODEV", eagain);

	t0 = harness_now_ms();
	ret = dmac_wait(ch, pending, WAIT_MS);
	dt = harness_now_ms() - t0;
	ok(ret == -ENODEV && dt < PROMPT_MS,
	   "%s: dmac_wait on a copy that can never complete: -ENODEV in %lld ms (%d)", how,
	   (long long)dt, ret);
	t0 = harness_now_ms();
	ret = dmac_wait(ch, last, WAIT_MS);
	dt = harness_now_ms() - t0;
	ok((ret == 0 || ret == -ENODEV) && dt < PROMPT_MS,
	   "%s: dmac_wait on an issued copy: done or -ENODEV in %lld ms (%d)", how, (long long)dt,
	   ret);
	ok(wait_forever_returns(ch, pending), "%s: dmac_wait with no timeout returns -ENODEV", how);

	for (n = 0, ret = 0; n < 4 && ret != -ENODEV; n++)
		ret = dmac_dispatch(c);
	ok(ret == -ENODEV, "%s: dmac_dispatch returns -ENODEV (%d)", how, ret);
	if (sig == SIGTERM)
		ok(shutdowns == 1, "SIGTERM: one SHUTDOWN event delivered (%u)", shutdowns);

	ok(!dmac_region_alloc(c, 4096) && errno == ENODEV,
	   "%s: dmac_region_alloc fails with ENODEV", how);
	ret = dmac_chan_get(c, DMAC_CAP_COPY, &ch2);
	ok(ret == -ENODEV && !ch2, "%s: dmac_chan_get returns -ENODEV (%d)", how, ret);
	t0 = harness_now_ms();
	dmac_chan_put(ch);
	dmac_disconnect(c);
	dt = harness_now_ms() - t0;
	ok(dt < PROMPT_MS, "%s: dmac_chan_put and dmac_disconnect return (%lld ms)", how,
	   (long long)dt);
}

int main(void)
{
	harness_watchdog(120);
	round_trip(SIGTERM);
	round_trip(SIGKILL);
	return tap_done();
}
