/* SPDX-License-Identifier: MIT */
/*
 * Engines leave in the middle of striped copies (four engines, dmad
 * --stripe-min 64 KiB, a client keeping 32 copies of 64 KiB..4 MiB in
 * flight): a planned removal of an engine that holds parts, a hang of
 * another (the watchdog fails it; the CPU redoes the parts it did not
 * complete), then a hang of the channel's own engine (its gates wait for
 * parts elsewhere, then the channel moves). Every copy must complete, in
 * order, byte-exact, guards intact, and the client keep going after each.
 *
 * That the hung part engine held unfinished parts needs no timing: the
 * watchdog fails only an engine with work in its fifo, and no channel is
 * on it, so what it held were parts.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "harness.h"
#include "jsonread.h"
#include "stream.h"

#define STEP_COPIES 40	  /* copies the client must finish after each step */
#define STEP_MS	    60000 /* ...within this long (a hang costs the 1 s watchdog) */

static struct harness_dmad *d;
static struct stream s = {.name = "striper", .min_len = 64 << 10, .max_len = 4 << 20, .seed = 5};

static bool progress(const char *after)
{
	uint64_t want = __atomic_load_n(&s.done, __ATOMIC_RELAXED) + STEP_COPIES;
	int64_t end = harness_now_ms() + STEP_MS;

	while (__atomic_load_n(&s.done, __ATOMIC_RELAXED) < want && harness_now_ms() < end &&
	       !__atomic_load_n(&s.err, __ATOMIC_RELAXED))
		usleep(10000);
	return ok(__atomic_load_n(&s.done, __ATOMIC_RELAXED) >= want,
		  "%u more copies checked after %s", STEP_COPIES, after);
}

/* A live device other than @not1 and @not2, into @ret (empty if none). */
static void other_dev(const char *not1, const char *not2, char *ret, size_t size)
{
	struct jv *root = harness_status_json(d->socket);
	const struct jv *dev;

	ret[0] = 0;
	for (size_t i = 0; root && (dev = jv_at(jv_get(root, "devices"), i)); i++) {
		const char *name = jv_str(jv_get(dev, "name"), "");

		if (strcmp(name, not1) && strcmp(name, not2) &&
		    !strcmp(jv_str(jv_get(dev, "state"), ""), "ONLINE")) {
			snprintf(ret, size, "%s", name);
			break;
		}
	}
	jv_free(root);
}

/* Whether copies were in flight: those the client issued and has not checked. */
static void in_flight(const char *what)
{
	tap_diag("%s with %llu copies checked so far", what,
		 (unsigned long long)__atomic_load_n(&s.done, __ATOMIC_RELAXED));
}

static void hang(const char *dev, const char *whose)
{
	struct ctl_out o;

	in_flight("hang");
	ctl_run(&o, d->socket, 10000, "fault", dev, "hang", NULL);
	ok(o.exit == 0, "dmactl fault %s hang (%s) exits 0 (%d: %s)", dev, whose, o.exit, o.err);
	ok(status_wait_dev(d->socket, dev, NULL, STEP_MS), "the watchdog fails %s and it goes",
	   dev);
}

int main(void)
{
	char chan_dev[32], part_dev[32], other[32];
	struct ctl_out o;
	pthread_t t;

	harness_watchdog(300);
	d = harness_dmad_start("--engines", "4", "--fault-injection", "--stripe-min", "65536",
			       NULL);
	s.socket = d->socket;
	s.window = 32;
	s.copies = UINT64_MAX;
	if (!ok(stream_open(&s) == 0, "a client with a channel"))
		tap_bail("cannot set up the client");
	snprintf(chan_dev, sizeof(chan_dev), "%s", dmac_chan_device(s.ch));
	pthread_create(&t, NULL, stream_run, &s);
	progress("the start");

	other_dev(chan_dev, "", part_dev, sizeof(part_dev));
	in_flight("removal");
	ctl_run(&o, d->socket, STEP_MS, "remove", part_dev, NULL);
	ok(o.exit == 0, "dmactl remove %s (holds parts, not the channel) exits 0 (%d: %s)",
	   part_dev, o.exit, o.err);
	progress("the removal");

	other_dev(chan_dev, part_dev, other, sizeof(other));
	hang(other, "no channel on it: what the watchdog finds there are parts");
	progress("a part engine's hang");

	hang(chan_dev, "the channel's own engine");
	progress("the channel engine's hang");

	__atomic_store_n(&s.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	stream_ok(&s);
	tap_diag("%llu copies, %llu bytes", (unsigned long long)s.done,
		 (unsigned long long)s.bytes);
	stream_close(&s);
	harness_dmad_finish(d);
	return tap_done();
}
