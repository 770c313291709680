/* SPDX-License-Identifier: MIT */
/*
 * dmactl restart, again and again, under verifying copy clients: each
 * client copies and checks every byte (destinations, guards, sources) and
 * every cookie's completion in rounds throughout, and must see no error at
 * all, one RESTARTED event per restart, and its session (regions, channel,
 * cookies) go on. dmad keeps its PID (exec in place) and exits cleanly at
 * the end. The longest stall a client saw around each restart is reported:
 * the longest round since the restart before. With the same sessions,
 * dmad holds as many fds after the last restart as at its first start,
 * and as many mappings and as much private memory (resident size less the
 * clients' regions and rings, whose pages count as far as its copies
 * touched them), within a small slack each, as after the first restart (a first start calibrates, a
 * takeover does not): what a dmad leaks across its exec adds up at every
 * restart. Only dmactl's own connection comes and goes meanwhile; the first
 * reading is before any, the last waits for it to go. At the end every
 * channel is back on a dma_skeleton (the bridge that serves the rings
 * while the new dmad's EAL starts hands them to the engines), and the
 * bridge took descriptors in the restarts.
 *
 *   RESTART_CLIENTS=4 RESTART_COUNT=20 meson test -C build test-restart-handover -v
 * is the benchmark (stall p99 over every client and restart;
 * tests/bench/restart-stall.sh), with where each restart's time went, from
 * dmad's log.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"
#include "procstat.h"

#define MAX_CLIENTS    16
#define MAX_RESTARTS   64
#define ROUND_COPIES   8
#define STEP_MS	       60000 /* a restart and every client's next round, at most */
#define SETTLE_MS      10000 /* for dmad to see dmactl's last connection close */
#define SLACK_ANON_KIB 1024  /* malloc arenas and stacks as touched, not a leak */
/*
 * Mappings that depend on when a reading falls, not on a leak: whether a
 * dma_skeleton idle for 100 ms was parked before it (glibc maps
 * libgcc_s.so.1, 5 mappings, at a process's first pthread_cancel) and a
 * thread's stack or malloc arena (2). A leak of one per restart passes
 * it within RESTART_COUNT 10 (the suite's).
 */
#define SLACK_MAPS 8

struct report {
	int32_t err; /* 0, or the first -errno a call returned */
	uint32_t restarts;
	uint64_t rounds, copies;
	uint32_t stall_us[MAX_RESTARTS];
};

struct client_proc {
	pid_t pid;
	int progress; /* a byte per restart the client has come through */
	int result;   /* its struct report at the end */
	int stop;     /* closed: stop */
};

static int env_int(const char *name, int dflt, int max)
{
	const char *s = getenv(name);
	int v = s ? atoi(s) : dflt;

	return v > 0 && v <= max ? v : dflt;
}

static void on_event(const struct dmac_event *ev, void *arg)
{
	bool *restarted = arg;

	if (ev->type == DMAC_EVENT_RESTARTED)
		*restarted = true;
}

static void client_main(const char *socket, unsigned idx, int progress, int result, int stop)
{
	struct report rep = {0};
	struct copier k;
	uint64_t window_us = 0;
	bool restarted = false;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "verifier%u", idx);
	r = copier_init(&k, socket, name, 4 << 20, 4 << 20, 256 << 10, 1000 + idx);
	if (r < 0)
		_exit(2);
	/* Every copy through the ring: the path the restart must keep. */
	dmac_chan_set_copybreak(k.ch, 0);
	dmac_set_event_cb(k.client, on_event, &restarted);
	/* Ready: one round done. */
	r = copier_round(&k, ROUND_COPIES);
	if (r == 0 && write(progress, "r", 1) != 1)
		r = -EPIPE;
	while (r == 0) {
		struct pollfd p = {.fd = stop, .events = POLLIN};
		int64_t t0 = harness_now_ms();
		uint64_t took;

		if (poll(&p, 1, 0) != 0)
			break;
		r = copier_round(&k, ROUND_COPIES);
		took = (uint64_t)(harness_now_ms() - t0) * 1000;
		window_us = took > window_us ? took : window_us;
		rep.rounds++;
		if (r == 0 && dmac_dispatch(k.client) < 0)
			r = -ENODEV;
		if (r == 0 && restarted) {
			restarted = false;
			if (rep.restarts < MAX_RESTARTS)
				rep.stall_us[rep.restarts] = (uint32_t)window_us;
			rep.restarts++;
			window_us = 0;
			if (write(progress, "k", 1) != 1)
				r = -EPIPE;
		}
	}
	rep.err = r;
	rep.copies = k.copies;
	copier_fini(&k);
	if (write(result, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	_exit(0);
}

static void start_client(struct client_proc *cps, const char *socket, unsigned idx)
{
	struct client_proc *cp = &cps[idx];
	int prog[2], res[2], stop[2];

	if (pipe(prog) < 0 || pipe(res) < 0 || pipe(stop) < 0)
		tap_bail("pipe: %s", strerror(errno));
	cp->pid = harness_fork();
	if (cp->pid == 0) {
		/* The others' ends: held here, their stop would never read as closed. */
		for (unsigned i = 0; i < idx; i++)
			close(cps[i].progress), close(cps[i].result), close(cps[i].stop);
		close(prog[0]), close(res[0]), close(stop[1]);
		client_main(socket, idx, prog[1], res[1], stop[0]);
	}
	close(prog[1]), close(res[1]), close(stop[0]);
	cp->progress = prog[0];
	cp->result = res[0];
	cp->stop = stop[1];
}

/* One byte from @fd within STEP_MS: the client came through. */
static bool step(int fd, char want)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b = 0;

	return poll(&p, 1, STEP_MS) == 1 && read(fd, &b, 1) == 1 && b == want;
}

/* dmad's fds back to @fds, waiting up to SETTLE_MS for dmactl's connection to go. */
static void settle(pid_t pid, int fds, struct procstat *now)
{
	int64_t end = harness_now_ms() + SETTLE_MS;

	while (procstat_read(pid, now) == 0 && harness_now_ms() < end && now->fds != fds)
		usleep(100000);
}

/* Each restart's own account of where its time went, from dmad's log;
 * returns the descriptors the bridge took while EAL started, in all. */
static unsigned long long show_phases(const struct harness_dmad *d)
{
	FILE *f = fopen(d->log, "re");
	unsigned long long all = 0, n;
	char line[512];
	const char *at;

	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, " after it began ("))
			continue;
		tap_diag("%.*s", (int)strcspn(line, "\n"), line);
		if (strstr(line, "by the bridge") && (at = strrchr(line, ',')) &&
		    sscanf(at, ", %llu descriptor", &n) == 1)
			all += n;
	}
	if (f)
		fclose(f);
	return all;
}

/* The clients' channels, by dmactl status: how many are on a dma_skeleton. */
static unsigned on_skeleton(const char *socket, unsigned *ret_all)
{
	struct jv *st = harness_status_json(socket);
	const struct jv *ch;
	unsigned n = 0;

	*ret_all = 0;
	for (size_t i = 0; st && (ch = jv_at(jv_get(st, "channels"), i)); i++) {
		(*ret_all)++;
		n += !strncmp(jv_str(jv_get(ch, "device"), ""), "dma_skeleton", 12);
	}
	jv_free(st);
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	unsigned nclients = (unsigned)env_int("RESTART_CLIENTS", 3, MAX_CLIENTS);
	unsigned nrestarts = (unsigned)env_int("RESTART_COUNT", 10, MAX_RESTARTS);
	const char *dmactl = harness_env("DMACTL_BIN");
	struct client_proc cps[MAX_CLIENTS];
	static uint32_t all[MAX_CLIENTS * MAX_RESTARTS];
	unsigned nall = 0, done = 0;
	struct harness_dmad *d;
	bool ready = true, clean = true;
	pid_t pid;

	const char *san = getenv("DMAD_SANITIZE");
	/* ASan keeps freed memory in quarantine and maps its allocator's
	 * regions as it goes: resident size and mappings say nothing there. */
	bool unsanitized = !san || !strcmp(san, "none");
	struct procstat first, base, now;

	tap_plan(12);
	harness_watchdog(600);
	d = harness_dmad_start(NULL);
	pid = d->pid;
	for (unsigned i = 0; i < nclients; i++)
		start_client(cps, d->socket, i);
	for (unsigned i = 0; i < nclients; i++)
		ready &= step(cps[i].progress, 'r');
	tap_ok(ready, "%u verifying clients copy before the first restart", nclients);
	if (procstat_read(pid, &first) < 0)
		tap_bail("cannot read dmad's /proc entries");
	base = first;

	for (unsigned n = 0; n < nrestarts && clean; n++) {
		char *argv[] = {(char *)dmactl, "--socket", d->socket, "restart", NULL};
		char out[256];
		int rc = harness_run(argv, out, sizeof(out), STEP_MS);

		if (rc != 0) {
			tap_diag("restart %u: dmactl restart exited %d: %s", n + 1, rc, out);
			clean = false;
			break;
		}
		for (unsigned i = 0; i < nclients; i++)
			if (!step(cps[i].progress, 'k')) {
				tap_diag("restart %u: client %u did not come through", n + 1, i);
				clean = false;
			}
		done += clean;
		if (n == 0 && procstat_read(pid, &base) < 0)
			tap_bail("cannot read dmad's /proc entries");
	}
	tap_ok(clean && done == nrestarts,
	       "%u restarts in a row, each answered, every client through each", done);
	tap_ok(harness_dmad_alive(d) && d->pid == pid, "dmad kept its PID %d (exec in place)",
	       (int)pid);
	settle(pid, first.fds, &now);
	tap_diag("first start: %d fds, %d mappings, %ld KiB private resident", first.fds,
		 first.maps, first.anon_kib);
	tap_diag("restart 1: %d fds, %d mappings, %ld KiB private resident", base.fds, base.maps,
		 base.anon_kib);
	tap_diag("restart %u: %d fds, %d mappings, %ld KiB private resident", done, now.fds,
		 now.maps, now.anon_kib);
	tap_ok(now.fds == first.fds,
	       "the same sessions hold the same fds at the first start and after restart %u: %d, "
	       "%d",
	       done, first.fds, now.fds);
	if (unsanitized) {
		tap_ok(now.maps <= base.maps + SLACK_MAPS,
		       "... and the same mappings (+%d): %d, %d", SLACK_MAPS, base.maps, now.maps);
		tap_ok(now.anon_kib <= base.anon_kib + SLACK_ANON_KIB,
		       "private resident memory back to %ld KiB (+%d): %ld KiB (all resident: "
		       "%ld, %ld KiB)",
		       base.anon_kib, SLACK_ANON_KIB, now.anon_kib, base.rss_kib, now.rss_kib);
	} else {
		tap_ok(1, "mappings # SKIP built with -Db_sanitize=%s", san);
		tap_ok(1, "resident memory # SKIP built with -Db_sanitize=%s", san);
	}
	unsigned nchans, skel = on_skeleton(d->socket, &nchans);

	tap_ok(nchans == nclients && skel == nclients,
	       "every client's channel is back on a dma_skeleton after the restarts, none left on "
	       "the CPU: %u of %u",
	       skel, nchans);
	unsigned long long bridged = show_phases(d);

	tap_ok(bridged > 0,
	       "the bridge served the rings while EAL started: %llu descriptors over %u restarts",
	       bridged, done);

	bool no_errors = true, all_seen = true;
	uint64_t copies = 0;
	uint32_t longest = 0;

	for (unsigned i = 0; i < nclients; i++) {
		struct report rep = {.err = -EPIPE};

		close(cps[i].stop);
		if (read(cps[i].result, &rep, sizeof(rep)) != sizeof(rep))
			rep.err = -EPIPE;
		harness_wait_child(cps[i].pid, STEP_MS, "verifying client");
		if (rep.err)
			tap_diag("client %u: %s after %llu rounds", i, strerror(-rep.err),
				 (unsigned long long)rep.rounds);
		no_errors &= rep.err == 0;
		all_seen &= rep.restarts == done;
		copies += rep.copies;
		for (unsigned k = 0; k < rep.restarts && k < MAX_RESTARTS; k++) {
			all[nall++] = rep.stall_us[k];
			longest = rep.stall_us[k] > longest ? rep.stall_us[k] : longest;
		}
	}
	tap_ok(no_errors,
	       "no client saw an error, a bad byte or an incomplete cookie (%llu copies)",
	       (unsigned long long)copies);
	tap_ok(all_seen, "every client saw one RESTARTED event per restart");
	qsort(all, nall, sizeof(all[0]), cmp_u32);
	tap_ok(nall > 0,
	       "stall per restart over %u clients x %u restarts: longest %u us, p50 %u us, "
	       "p99 %u us",
	       nclients, done, longest, nall ? all[nall / 2] : 0,
	       nall ? all[(nall * 99 + 99) / 100 - 1] : 0);
	harness_dmad_finish(d);
	return tap_done();
}
