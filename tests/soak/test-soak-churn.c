/* SPDX-License-Identifier: MIT */
/*
 * Clients come and go for $SOAK_SECONDS (20 by default): each connects,
 * registers regions, takes channels, copies and verifies, and then either
 * cleans up, exits without cleaning up, or is SIGKILLed in the middle of
 * its copies. Afterwards the daemon's open fds, mappings and resident
 * memory are back where they were (within a small slack, measured once
 * deferred frees have run), and a client that stayed all along never saw
 * a wrong byte. A week of clients is this loop, longer:
 *   SOAK_SECONDS=3600 meson test --suite soak -t 100
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "procstat.h"

#define DEFAULT_SECONDS 20
#define WARMUP_CYCLES	8
#define PARALLEL	3
#define SLACK_FDS	2
#define SLACK_MAPS	4
#define SLACK_RSS_KIB	(2 << 10)
#define SETTLE_MS	5000

enum ending { CLEAN, ABRUPT, KILLED, NENDINGS };

struct churner {
	pid_t pid;
	int ready; /* read end: one byte once it is copying */
	enum ending how;
	int64_t kill_at;
};

static const char *const ending_name[] = {"clean", "abrupt", "killed"};

/* Copy and verify; a KILLED churner copies until the parent kills it. */
static void churner_main(const char *socket, enum ending how, uint32_t seed, int ready)
{
	struct copier k;
	size_t src = (size_t)64 << (seed % 5) << 10, dst = (size_t)256 << 10;
	struct dmac_chan *extra = NULL;
	unsigned rounds = how == KILLED ? UINT32_MAX : 2 + seed % 4;

	if (copier_init(&k, socket, "churner", src, dst, 32 << 10, seed) < 0)
		_exit(2);
	/* Some hold a second, idle channel and a third region too. */
	if (seed % 2 && (dmac_chan_get(k.client, DMAC_CAP_COPY, &extra) < 0 ||
			 !dmac_region_alloc(k.client, 4096)))
		_exit(3);
	dmac_chan_set_copybreak(k.ch, seed % 3 ? 0 : 4096);
	for (unsigned i = 0; i < rounds; i++) {
		if (copier_round(&k, 16) < 0)
			_exit(4);
		if (i == 0 && write(ready, "r", 1) != 1)
			_exit(5);
	}
	if (how == ABRUPT)
		_exit(0); /* the kernel closes the socket; the daemon reclaims */
	dmac_chan_put(extra);
	copier_fini(&k);
	_exit(0);
}

static void churner_start(struct churner *c, const char *socket, uint32_t *rng)
{
	int p[2];

	if (pipe(p) < 0)
		tap_bail("pipe: %s", strerror(errno));
	c->how = (enum ending)(rnd(rng) % NENDINGS);
	c->kill_at = 0;
	c->pid = harness_fork();
	if (c->pid == 0) {
		close(p[0]);
		churner_main(socket, c->how, rnd(rng), p[1]);
	}
	close(p[1]);
	c->ready = p[0];
}

/* Reap @c if it is done (or kill it when due). true once it was reaped. */
static bool churner_poll(struct churner *c, unsigned *failures)
{
	struct pollfd p = {.fd = c->ready, .events = POLLIN};
	int status;
	pid_t r;

	if (c->how == KILLED && !c->kill_at && poll(&p, 1, 0) == 1)
		c->kill_at = harness_now_ms() + (int64_t)(c->pid % 20);
	if (c->kill_at && harness_now_ms() >= c->kill_at)
		kill(c->pid, SIGKILL);
	r = waitpid(c->pid, &status, WNOHANG);
	if (r != c->pid)
		return false;
	close(c->ready);
	if (c->how == KILLED ? !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			     : !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		tap_diag("a %s churner ended with status %#x", ending_name[c->how], status);
		(*failures)++;
	}
	return true;
}

/* Run churners, PARALLEL at a time, for @cycles of them or until @end. */
static unsigned churn(const char *socket, unsigned cycles, int64_t end, uint32_t *rng,
		      unsigned *failures)
{
	struct churner c[PARALLEL];
	unsigned started = 0, running = 0;

	while (running || (started < cycles && harness_now_ms() < end)) {
		for (unsigned i = 0; i < PARALLEL; i++) {
			if (i < running && churner_poll(&c[i], failures)) {
				c[i] = c[--running];
				i--;
			}
		}
		while (running < PARALLEL && started < cycles && harness_now_ms() < end) {
			churner_start(&c[running++], socket, rng);
			started++;
		}
		usleep(2000);
	}
	return started;
}

/*
 * The daemon back within slack of @base, waiting up to SETTLE_MS for
 * deferred frees; resident memory only when @rss counts.
 */
static void settle(pid_t pid, const struct procstat *base, bool rss, struct procstat *now)
{
	int64_t end = harness_now_ms() + SETTLE_MS;

	while (procstat_read(pid, now) == 0 && harness_now_ms() < end) {
		if (now->fds <= base->fds + SLACK_FDS && now->maps <= base->maps + SLACK_MAPS &&
		    (!rss || now->rss_kib <= base->rss_kib + SLACK_RSS_KIB))
			return;
		usleep(100000);
	}
}

int main(void)
{
	const char *env = getenv("SOAK_SECONDS"), *san = getenv("DMAD_SANITIZE");
	unsigned seconds = env && *env ? (unsigned)atoi(env) : DEFAULT_SECONDS, cycles,
		 failures = 0;
	/* ASan keeps freed memory in quarantine: resident size says nothing there. */
	bool rss = !san || !strcmp(san, "none");
	struct procstat base, now;
	struct harness_dmad *d;
	struct bystander b;
	uint32_t rng = 2024;

	harness_watchdog(seconds + 120);
	d = harness_dmad_start(NULL);
	bystander_start(&b, d->socket);
	/* First-time allocations (DPDK, malloc arenas) are not leaks: warm up. */
	churn(d->socket, WARMUP_CYCLES, INT64_MAX, &rng, &failures);
	usleep(500000);
	if (procstat_read(d->pid, &base) < 0)
		tap_bail("cannot read the daemon's /proc entries");
	tap_diag("start: %d fds, %d mappings, %ld KiB resident", base.fds, base.maps, base.rss_kib);

	cycles = churn(d->socket, UINT32_MAX, harness_now_ms() + (int64_t)seconds * 1000, &rng,
		       &failures);
	ok(cycles > 0 && failures == 0,
	   "%u clients in %u s, each clean, abrupt or killed, none failing (%u failed)", cycles,
	   seconds, failures);
	ok(harness_dmad_alive(d), "dmad is still running");

	settle(d->pid, &base, rss, &now);
	tap_diag("end: %d fds, %d mappings, %ld KiB resident", now.fds, now.maps, now.rss_kib);
	ok(now.fds <= base.fds + SLACK_FDS, "open fds back to %d (+%d): %d", base.fds, SLACK_FDS,
	   now.fds);
	ok(now.maps <= base.maps + SLACK_MAPS, "mappings back to %d (+%d): %d", base.maps,
	   SLACK_MAPS, now.maps);
	if (rss)
		ok(now.rss_kib <= base.rss_kib + SLACK_RSS_KIB,
		   "resident memory back to %ld KiB (+%d): %ld KiB", base.rss_kib, SLACK_RSS_KIB,
		   now.rss_kib);
	else
		ok(1, "resident memory # SKIP built with -Db_sanitize=%s", san);
	ok(bystander_stop(&b), "a client connected all along copied correctly throughout");
	harness_dmad_finish(d);
	return tap_done();
}
