/* SPDX-License-Identifier: MIT */
/*
 * Devices come and go while four client processes copy verified data
 * without pause: a planned removal, a hot-add, another removal, a device
 * that hangs (the watchdog declares it dead, the CPU redoes what it held),
 * the last device removed (every channel on the daemon's CPU engine), and a
 * device added back (the channels return to an engine). Every client must
 * keep going through all of it, with every copy complete, in order, and
 * byte-exact. The longest client stall and each drain's time are printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "harness.h"
#include "load.h"

#define NLOAD	  4
#define ROUNDS	  2	/* each client finishes this many rounds after every step */
#define ROUNDS_MS 20000 /* ... within this long (generous: CI boxes get overloaded) */
#define DEAD_MS	  10000 /* a hung device's 1 s watchdog plus the redo, with room */

static struct harness_dmad *d;
static struct loader loaders[NLOAD];

/* Every client still copies after @what: no channel was left behind. */
static void all_progress(const char *what)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NLOAD; i++)
		n += loader_rounds(&loaders[i], ROUNDS, ROUNDS_MS);
	ok(n == NLOAD, "all %u clients finish %u more rounds after %s (%u did)", NLOAD, ROUNDS,
	   what, n);
}

static unsigned int count_moved_to(const struct jv *rm, const char *to)
{
	const struct jv *m;
	unsigned int n = 0;

	for (size_t i = 0; (m = jv_at(jv_get(rm, "moved"), i)); i++)
		n += !to || !strcmp(jv_str(jv_get(m, "to"), ""), to);
	return n;
}

/* How many of the clients' channels the status places on @dev. */
static unsigned int chans_on(const struct jv *st, const char *dev)
{
	unsigned int n = 0;
	char name[16];

	for (unsigned int i = 0; i < NLOAD; i++) {
		const char *on;

		snprintf(name, sizeof(name), "load-%u", i);
		on = status_chan_dev(st, name);
		n += on && !strcmp(on, dev);
	}
	return n;
}

static struct jv *status(void)
{
	int r;
	struct jv *st = ctl_json(d->socket, &r, "status", NULL);

	ok(st, "dmactl --json status (%d)", r);
	return st;
}

/* Remove @dev; returns the parsed reply after checking it went and how long it took. */
static struct jv *remove_dev(const char *dev)
{
	struct jv *rm, *st;
	int r;

	rm = ctl_json(d->socket, &r, "remove", dev, NULL);
	ok(r == 0 && rm, "dmactl remove %s exits 0 with a JSON reply (%d)", dev, r);
	tap_diag("remove %s: drain %.0f us, %u channel(s) moved, longest stall %.0f us%s", dev,
		 jv_num(jv_get(rm, "drain_us"), -1), count_moved_to(rm, NULL),
		 jv_num(jv_get(rm, "max_stall_us"), -1),
		 jv_get(rm, "timed_out") && jv_get(rm, "timed_out")->b ? " (timed out)" : "");
	ok(count_moved_to(rm, dev) == 0, "no channel moved onto %s itself", dev);
	st = status();
	ok(!status_dev(st, dev) && !strcmp(status_dev_state(st, dev), "REMOVED"),
	   "%s is no longer live, and listed REMOVED (%s)", dev, status_dev_state(st, dev));
	ok(chans_on(st, dev) == 0, "no client channel is on %s", dev);
	jv_free(st);
	all_progress(dev);
	return rm;
}

static void add_dev(const char *dev, unsigned int want_moved)
{
	struct jv *a;
	int r;

	a = ctl_json(d->socket, &r, "add", dev, NULL);
	ok(r == 0 && !strcmp(jv_str(jv_get(a, "added"), ""), dev), "dmactl add %s exits 0 (%d)",
	   dev, r);
	ok(jv_num(jv_get(a, "moved"), -1) == want_moved,
	   "%u channel(s) came back from the CPU onto it (%.0f)", want_moved,
	   jv_num(jv_get(a, "moved"), -1));
	jv_free(a);
	all_progress(dev);
}

/* The injected hang must trip the watchdog: the device leaves on its own. */
static void hang(const char *dev)
{
	struct ctl_out o;
	struct jv *st;
	int64_t t0, end;
	unsigned int before;
	bool gone = false;
	int r;

	st = status();
	before = chans_on(st, dev);
	ok(before > 0, "%s carries %u client channel(s) before it hangs", dev, before);
	jv_free(st);

	t0 = harness_now_ms();
	ok(ctl_run(&o, d->socket, 10000, "fault", dev, "hang", NULL) == 0,
	   "dmactl fault %s hang exits 0 (%d: %s)", dev, o.exit, o.err);
	for (end = t0 + DEAD_MS; !gone && harness_now_ms() < end; usleep(50000)) {
		st = ctl_json(d->socket, &r, "status", NULL);
		gone = st && !status_dev(st, dev) && chans_on(st, dev) == 0;
		jv_free(st);
	}
	ok(gone, "the watchdog declared %s dead and moved its channels off it", dev);
	st = status();
	ok(!strcmp(status_dev_state(st, dev), "FAILED") &&
		   strstr(jv_str(jv_get(status_released(st, dev), "reason"), ""),
			  "stopped completing (fault injected)"),
	   "%s stays listed FAILED, with the reason (%s: \"%s\")", dev, status_dev_state(st, dev),
	   jv_str(jv_get(status_released(st, dev), "reason"), ""));
	jv_free(st);
	tap_diag("%s gone %lld ms after the hang (watchdog 1000 ms)", dev,
		 (long long)(harness_now_ms() - t0));
	all_progress("the hang");
}

static void check_results(void)
{
	uint64_t worst = 0;

	for (unsigned int i = 0; i < NLOAD; i++) {
		struct load_result r;
		bool clean = loader_stop(&loaders[i], &r);

		ok(clean && !r.err,
		   "client %u: %llu rounds, %llu copies, %llu bytes, all complete, in order, "
		   "byte-exact%s%s",
		   i, (unsigned long long)r.rounds, (unsigned long long)r.copies,
		   (unsigned long long)r.bytes, r.err ? ": " : "", r.why);
		ok(r.copybreak == 0, "client %u: copybreak 0, every copy went to the daemon", i);
		ok(r.ev_cpu >= 1 && r.rounds_on_cpu >= 1,
		   "client %u: told it fell back to the daemon's CPU (%u), copied there (%u rounds)",
		   i, r.ev_cpu, r.rounds_on_cpu);
		ok(!strcmp(r.last_dev, "dma_skeleton6"), "client %u: ends on dma_skeleton6 (%s)", i,
		   r.last_dev);
		tap_diag(
			"client %u: longest dmac_wait %llu us; around a move %llu us (the daemon's "
			"events said %llu us); %u moves, %u devices",
			i, (unsigned long long)r.max_stall_us, (unsigned long long)r.move_stall_us,
			(unsigned long long)r.max_ev_stall_us, r.ev_moved + r.ev_cpu,
			r.devices_seen);
		if (r.max_stall_us > worst)
			worst = r.max_stall_us;
	}
	tap_diag("longest client stall: %llu us", (unsigned long long)worst);
}

int main(void)
{
	struct jv *rm, *st;
	char name[16];

	harness_watchdog(120);
	/* A starved worker on a small CI box is not a hung device: 1 s, not 100 ms. */
	d = harness_dmad_start("--engines", "3", "--fault-injection", "--watchdog-ms", "1000",
			       NULL);
	/* Every copy through the daemon, whatever its calibration says. */
	setenv("DMAC_COPYBREAK", "0", 1);
	for (unsigned int i = 0; i < NLOAD; i++) {
		snprintf(name, sizeof(name), "load-%u", i);
		loader_start(&loaders[i], d->socket, name, 0x5eed + i);
	}
	all_progress("start");

	jv_free(remove_dev("dma_skeleton0"));
	add_dev("dma_skeleton5", 0);
	jv_free(remove_dev("dma_skeleton1"));
	hang("dma_skeleton2");

	rm = remove_dev("dma_skeleton5");
	ok(count_moved_to(rm, "cpu") == NLOAD && count_moved_to(rm, NULL) == NLOAD,
	   "the last device's removal put all %u channels on the daemon's CPU engine (%u)", NLOAD,
	   count_moved_to(rm, "cpu"));
	jv_free(rm);
	st = status();
	ok(jv_get(st, "devices") && jv_get(st, "devices")->n == 0, "no device is left");
	ok(chans_on(st, "cpu") == NLOAD, "the status shows every channel on \"cpu\"");
	jv_free(st);

	add_dev("dma_skeleton6", NLOAD);
	st = status();
	ok(chans_on(st, "dma_skeleton6") == NLOAD, "every channel is on dma_skeleton6 again");
	jv_free(st);

	check_results();
	ok(harness_dmad_alive(d), "dmad survived all of it");
	harness_dmad_finish(d);
	return tap_done();
}
