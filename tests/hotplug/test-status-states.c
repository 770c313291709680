/* SPDX-License-Identifier: MIT */
/*
 * `dmactl --json status` follows a device through a removal that cannot
 * finish: ONLINE; DRAINING while the copies a hung device holds keep the
 * drain open (the watchdog is set far beyond the test, so only the
 * removal's --timeout ends it); then released, listed FAILED with its
 * reason, with the client's channel on the other device. The removal reports that it timed out, and
 * the copies the device held, and one queued during the drain, complete in order, by CPU.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "harness.h"
#include "stuck.h"

#define NAME	   "stuck"
#define TIMEOUT_MS 3000
#define STR_(x)	   #x
#define STR(x)	   STR_(x)

static const char *other_dev(const char *dev)
{
	return strcmp(dev, "dma_skeleton0") ? "dma_skeleton0" : "dma_skeleton1";
}

static void check_draining(const char *socket, const char *dev)
{
	struct jv *st;
	int r;

	ok(status_wait_dev(socket, dev, "DRAINING", TIMEOUT_MS - 500),
	   "the status shows %s DRAINING while it holds copies", dev);
	st = ctl_json(socket, &r, "status", NULL);
	ok(!strcmp(status_dev_state(st, dev), "DRAINING"), "still DRAINING in the next status");
	ok(jv_num(jv_get(status_dev(st, dev), "channels"), -1) == 0,
	   "a DRAINING device carries no channel (%.0f)",
	   jv_num(jv_get(status_dev(st, dev), "channels"), -1));
	ok(!strcmp(status_dev_state(st, other_dev(dev)), "ONLINE"), "%s stays ONLINE",
	   other_dev(dev));
	ok(!strcmp(status_chan_dev(st, NAME) ? status_chan_dev(st, NAME) : "", "(moving)"),
	   "the client's channel is listed as \"(moving)\" (\"%s\")",
	   status_chan_dev(st, NAME) ? status_chan_dev(st, NAME) : "not listed");
	jv_free(st);
}

static void check_reply(const char *text, const char *dev, int64_t took_ms)
{
	struct jv *rm = jv_parse(text);
	const struct jv *m = jv_at(jv_get(rm, "moved"), 0);

	if (!ok(rm, "the remove reply is JSON"))
		tap_diag("reply: %s", text);
	ok(!strcmp(jv_str(jv_get(rm, "removed"), ""), dev), "it names %s", dev);
	ok(jv_get(rm, "timed_out") && jv_get(rm, "timed_out")->b, "it reports timed_out");
	ok(jv_num(jv_get(rm, "drain_us"), 0) >= TIMEOUT_MS * 1000.0,
	   "its drain took the whole --timeout %d ms (%.0f us)", TIMEOUT_MS,
	   jv_num(jv_get(rm, "drain_us"), 0));
	ok(jv_get(rm, "moved") && jv_get(rm, "moved")->n == 1 &&
		   !strcmp(jv_str(jv_get(m, "to"), ""), other_dev(dev)),
	   "one channel moved, to %s (%s)", other_dev(dev), jv_str(jv_get(m, "to"), "?"));
	ok(took_ms >= TIMEOUT_MS, "dmactl returned after the timeout (%lld ms)",
	   (long long)took_ms);
	jv_free(rm);
}

int main(void)
{
	struct harness_dmad *d;
	struct ctl_bg bg;
	struct ctl_out o;
	struct stuck s;
	struct jv *st;
	int64_t t0;
	dmac_cookie_t late;
	int r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "2", "--fault-injection", "--watchdog-ms", "60000",
			       NULL);
	st = ctl_json(d->socket, &r, "status", NULL);
	ok(!strcmp(status_dev_state(st, "dma_skeleton0"), "ONLINE") &&
		   !strcmp(status_dev_state(st, "dma_skeleton1"), "ONLINE"),
	   "both devices start ONLINE");
	jv_free(st);

	if (!stuck_start(&s, d->socket, NAME))
		tap_bail("cannot set up a hung device with copies in flight");
	st = ctl_json(d->socket, &r, "status", NULL);
	ok(!strcmp(status_dev_state(st, s.dev), "ONLINE"), "a hung %s is ONLINE until noticed",
	   s.dev);
	ok(!strcmp(status_chan_dev(st, NAME) ? status_chan_dev(st, NAME) : "", s.dev),
	   "the client's channel is on %s", s.dev);
	jv_free(st);

	t0 = harness_now_ms();
	ctl_bg_start(&bg, d->socket, 30000, "--json", "remove", s.dev, "--timeout", STR(TIMEOUT_MS),
		     NULL);
	check_draining(d->socket, s.dev);
	late = stuck_queue(&s);
	ok(late >= 0 && dmac_is_complete(s.ch, late) == DMAC_IN_PROGRESS,
	   "a copy queued during the drain waits behind the held ones (%d)", late);

	r = ctl_bg_wait(&bg, &o);
	ok(r == 0, "dmactl remove exits 0 once the device is released (%d: %s)", r, o.err);
	check_reply(o.out, s.dev, harness_now_ms() - t0);

	st = ctl_json(d->socket, &r, "status", NULL);
	ok(st && !status_dev(st, s.dev), "%s is no longer a live device", s.dev);
	ok(!strcmp(status_dev_state(st, s.dev), "FAILED"),
	   "it stays listed as released, FAILED: its drain timed out (%s)",
	   status_dev_state(st, s.dev));
	ok(strstr(jv_str(jv_get(status_released(st, s.dev), "reason"), ""),
		  "did not drain in time"),
	   "with the reason (\"%s\")", jv_str(jv_get(status_released(st, s.dev), "reason"), ""));
	ok(!strcmp(status_dev_state(st, other_dev(s.dev)), "ONLINE"), "%s is ONLINE",
	   other_dev(s.dev));
	ok(!strcmp(status_chan_dev(st, NAME) ? status_chan_dev(st, NAME) : "", other_dev(s.dev)),
	   "the client's channel shows on %s", other_dev(s.dev));
	jv_free(st);

	stuck_finish(&s, 10000);
	r = dmac_dispatch(s.client);
	ok(r >= 0 && !strcmp(dmac_chan_device(s.ch), other_dev(s.dev)),
	   "told of the move, the client library names %s (%d, %s)", other_dev(s.dev), r,
	   dmac_chan_device(s.ch));
	stuck_fini(&s);
	harness_dmad_finish(d);
	return tap_done();
}
