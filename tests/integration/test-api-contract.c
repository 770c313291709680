/* SPDX-License-Identifier: MIT */
/*
 * What dmaclient.h and libdmaclient(3) promise in the corners: a cookie
 * the channel never issued reads as complete; dmac_wait(ch, k, 0) checks
 * once and returns -ETIMEDOUT at once; a channel whose copies all go by
 * CPU never returns -EAGAIN (so "submit until -EAGAIN" would never stop);
 * the daemon's CPU engine is "cpu" in events and in dmac_chan_device(),
 * the library's own CPU fallback ""; after a hot-add, the channel-moved
 * events onto the new device come before its device-added event.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "copier.h"
#include "harness.h"

#define MAX_EVENTS 16
#define LEN	   4096

static struct dmac_event events[MAX_EVENTS];
static unsigned nevents;

static void on_event(const struct dmac_event *ev, void *arg)
{
	(void)arg;
	if (nevents < MAX_EVENTS)
		events[nevents++] = *ev;
}

/* Dispatch until @n events in all have come, or @ms pass. */
static void wait_events(struct dmac_client *c, unsigned n, int ms)
{
	int64_t end = harness_now_ms() + ms;
	struct pollfd p = {.fd = dmac_fd(c), .events = POLLIN};

	while (nevents < n && harness_now_ms() < end)
		if (poll(&p, 1, 100) > 0)
			dmac_dispatch(c);
}

static int dmactl(const char *socket, const char *a, const char *b, const char *c)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			(char *)socket,
			(char *)a,
			(char *)b,
			(char *)c,
			NULL};
	char out[1024];

	return harness_run(argv, out, sizeof(out), 30000);
}

static void never_issued(struct dmac_chan *ch)
{
	int64_t t0 = harness_now_ms();
	int r;

	ok(dmac_is_complete(ch, 0) == DMAC_COMPLETE, "cookie 0 (\"nothing yet\") reads complete");
	ok(dmac_is_complete(ch, 5) == DMAC_COMPLETE,
	   "a cookie the channel never issued reads complete");
	r = dmac_wait(ch, 5, -1);
	ok(r == 0 && harness_now_ms() - t0 < 1000, "and dmac_wait() on it returns 0 at once (%d)",
	   r);
	ok(dmac_is_complete(ch, -EINVAL) == DMAC_ERROR && dmac_wait(ch, -EINVAL, 0) == -EINVAL,
	   "a negative cookie: DMAC_ERROR, and -EINVAL from dmac_wait()");
}

/* Hang the engine: a copy stays in progress until the watchdog redoes it. */
static void wait_zero(const char *socket, struct dmac_chan *ch, uint8_t *src, uint8_t *dst)
{
	dmac_cookie_t k;
	int64_t t0;
	int r;

	ok(dmactl(socket, "fault", dmac_chan_device(ch), "hang") == 0, "dmactl fault %s hang",
	   dmac_chan_device(ch));
	memset(src, 0x5a, LEN);
	memset(dst, 0, LEN);
	k = dmac_memcpy(ch, dst, src, LEN, 0);
	t0 = harness_now_ms();
	r = dmac_wait(ch, k, 0);
	ok(k > 0 && r == -ETIMEDOUT && harness_now_ms() - t0 < 100,
	   "dmac_wait(ch, k, 0) on a copy the engine holds: -ETIMEDOUT at once (%d, %lld ms)", r,
	   (long long)(harness_now_ms() - t0));
	ok(dmac_is_complete(ch, k) == DMAC_IN_PROGRESS, "the copy is still in progress");
	r = dmac_wait(ch, k, COPIER_WAIT_MS);
	ok(r == 0 && dst[0] == 0x5a && dst[LEN - 1] == 0x5a,
	   "once the watchdog fails the engine, the CPU redoes it (%d)", r);
}

static void events_in_order(const char *socket, struct dmac_client *c, struct dmac_chan *ch,
			    const char *was)
{
	const struct dmac_event *e;

	/* The hung device is failed: the channel goes to dmad's CPU engine. */
	wait_events(c, 1, COPIER_WAIT_MS);
	e = &events[0];
	ok(nevents >= 1 && e->type == DMAC_EVENT_CHAN_CPU && e->chan == ch &&
		   !strcmp(e->from, was) && !strcmp(e->to, "cpu"),
	   "DMAC_EVENT_CHAN_CPU from \"%s\" to \"%s\" (type %d)", e->from, e->to, e->type);
	ok(!strcmp(dmac_chan_device(ch), "cpu"),
	   "dmac_chan_device() says \"%s\" on dmad's CPU engine", dmac_chan_device(ch));

	nevents = 0;
	ok(dmactl(socket, "add", "dma_skeleton7", NULL) == 0, "dmactl add dma_skeleton7");
	wait_events(c, 2, COPIER_WAIT_MS);
	ok(nevents == 2 && events[0].type == DMAC_EVENT_CHAN_MOVED && events[0].chan == ch &&
		   !strcmp(events[0].from, "cpu") && !strcmp(events[0].to, "dma_skeleton7"),
	   "first the channel moved from \"%s\" to \"%s\" (type %d)", events[0].from, events[0].to,
	   events[0].type);
	ok(nevents == 2 && events[1].type == DMAC_EVENT_DEVICE_ADDED && !events[1].chan &&
		   !strcmp(events[1].to, "dma_skeleton7") && !events[1].from[0],
	   "then the device added: to \"%s\", no channel (type %d)", events[1].to, events[1].type);
	ok(!strcmp(dmac_chan_device(ch), "dma_skeleton7"), "dmac_chan_device() follows: \"%s\"",
	   dmac_chan_device(ch));
}

static void cpu_only(void)
{
	struct harness_dmad *d = harness_dmad_start("--engines", "0", NULL);
	struct copier k;
	unsigned i, again = 0, bad = 0;
	dmac_cookie_t last = 0;

	if (!ok(copier_init(&k, d->socket, "cpu-only", 1 << 20, 1 << 20, 64, 3) == 0,
		"a channel with no engine behind it"))
		return;
	ok(!strcmp(dmac_chan_device(k.ch), ""), "dmac_chan_device() is \"\" (\"%s\")",
	   dmac_chan_device(k.ch));
	dmac_chan_set_copybreak(k.ch, 0);
	/* Four rings' worth, never issued: a ring channel would be full at 1024. */
	for (i = 0; i < 4 * 1024; i++) {
		dmac_cookie_t r = dmac_memcpy(k.ch, k.dst + (i % 1024) * 64, k.src, 64, 0);

		again += r == -EAGAIN;
		bad += r < 0;
		last = r > 0 ? r : last;
	}
	ok(!again && !bad, "%u copies with no issue and no wait: no -EAGAIN (%u), no error (%u)", i,
	   again, bad);
	ok(dmac_is_complete(k.ch, last) == DMAC_COMPLETE, "each complete as it returned");
	copier_fini(&k);
	harness_dmad_finish(d);
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	char was[32];
	int r;

	harness_watchdog(120);
	d = harness_dmad_start("--engines", "1", "--fault-injection", NULL);
	r = dmac_connect(d->socket, "contract", &c);
	src = r == 0 ? dmac_region_alloc(c, LEN) : NULL;
	dst = src ? dmac_region_alloc(c, LEN) : NULL;
	if (dst)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(dst && r == 0, "client with two regions and a channel (%d)", r))
		return tap_done();
	dmac_set_event_cb(c, on_event, NULL);
	dmac_chan_set_copybreak(ch, 0);
	snprintf(was, sizeof(was), "%s", dmac_chan_device(ch));

	never_issued(ch);
	wait_zero(d->socket, ch, src, dst);
	events_in_order(d->socket, c, ch, was);
	dmac_disconnect(c);
	harness_dmad_finish(d);

	cpu_only();
	return tap_done();
}
