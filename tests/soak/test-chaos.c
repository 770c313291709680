/* SPDX-License-Identifier: MIT */
/*
 * Chaos: six verifying client processes copy, fill and fence, free regions
 * under their own copies in flight and trade channels, while this process
 * SIGKILLs one now and then (and starts a replacement) and removes, adds
 * and hangs engines with dmactl, once taking every engine away for a
 * while. After each window a client checks every byte of its regions: a
 * wrong destination byte, a changed guard byte or a stale copy in a fresh
 * region, a completion out of cookie order, or an error the API does not
 * document fails the test. Stalls are reported, not failed.
 *
 *   CHAOS_SECONDS=600 CHAOS_SEED=1234 meson test -C build test-chaos -t 10 -v
 *
 * Length: $CHAOS_SECONDS, else $SOAK_SECONDS, else 60 s. Seed: $CHAOS_SEED,
 * else the clock; printed first; client number i (replacements count on)
 * runs on seed + i. CHAOS_CALM=1: no kills and no device actions, for a
 * baseline of the stalls. Arguments go to dmad (e.g. --watchdog-ms 1).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "copier.h"
#include "harness.h"

#define DEFAULT_SECONDS 60
#define STOP_MS		(CHAOS_LOST_MS + 15000) /* a client finishes its window first */
#define KILL_MIN_MS	500
#define KILL_VARY_MS	3000
#define TICK_US		20000
#define MAX_RESPAWNS	50 /* clients that gave up on their own: past this, stop feeding them */

static struct chaos_shared *sh;
static pid_t pids[CHAOS_CLIENTS];
static uint32_t seed, next_index;
static const char *sock;
static unsigned kills, exits;

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static void spawn(unsigned slot)
{
	uint32_t s = seed + next_index++;
	pid_t parent = getpid();

	pids[slot] = harness_fork();
	if (pids[slot] == 0)
		chaos_client_main(sock, slot, s, parent, sh);
}

static void say_end(unsigned slot, int status)
{
	exits++;
	if (WIFSIGNALED(status))
		tap_diag("client %u (pid %d) killed by signal %d", slot, pids[slot],
			 WTERMSIG(status));
	else
		tap_diag("client %u (pid %d) exited with %d", slot, pids[slot],
			 WEXITSTATUS(status));
}

/* Clients that ended on their own (they say why first); replaced while that stays rare. */
static void reap_ended(void)
{
	for (unsigned i = 0; i < CHAOS_CLIENTS; i++) {
		int status;

		if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) != pids[i])
			continue;
		say_end(i, status);
		pids[i] = 0;
		if (exits < MAX_RESPAWNS)
			spawn(i);
	}
}

/* SIGKILL a random client whatever it is doing, and start the next in its slot. */
static void kill_one(uint32_t *rng)
{
	unsigned i = rnd(rng) % CHAOS_CLIENTS;
	int status;

	if (pids[i] <= 0)
		return;
	kill(pids[i], SIGKILL);
	waitpid(pids[i], &status, 0);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		kills++;
	else
		say_end(i, status);
	spawn(i);
}

static void summary(const struct chaos_stats *t, const struct chaos_devs *v)
{
	char kinds[512] = "";
	size_t n = 0;

	for (unsigned k = 0; k < UNDOC_KINDS; k++)
		if (t->undoc[k] && n < sizeof(kinds))
			n += (size_t)snprintf(kinds + n, sizeof(kinds) - n, "%s%llu %s",
					      n ? ", " : "", (unsigned long long)t->undoc[k],
					      chaos_undoc_name[k]);
	tap_diag("summary (seed %u): %llu ops, %llu bytes (%.1f MiB), %llu windows, %llu fenced, "
		 "%llu regions freed under their copies, %llu channel trades",
		 seed, (unsigned long long)t->ops, (unsigned long long)t->bytes,
		 (double)t->bytes / (1 << 20), (unsigned long long)t->windows,
		 (unsigned long long)t->fenced, (unsigned long long)t->frees,
		 (unsigned long long)t->chan_swaps);
	tap_diag("summary: %u clients killed, %u ended on their own, %u started", kills, exits,
		 next_index);
	tap_diag("summary: devices: %llu removed, %llu added, %llu hung, %.1f s with no device; "
		 "dmactl refused %llu (races with the watchdog), failed %llu",
		 (unsigned long long)v->removes, (unsigned long long)v->adds,
		 (unsigned long long)v->hangs, (double)v->nodev_total_ms / 1000,
		 (unsigned long long)v->refused, (unsigned long long)v->ctl_errors);
	tap_diag("summary: longest stall %.1f ms; documented: %llu -EAGAIN, %llu -ETIMEDOUT",
		 (double)t->max_stall_us / 1000, (unsigned long long)t->eagain,
		 (unsigned long long)t->etimedout);
	tap_diag("summary: %llu bad bytes, %llu stray bytes, %llu out of order, undocumented "
		 "errors: %s",
		 (unsigned long long)t->bad_bytes, (unsigned long long)t->stray_bytes,
		 (unsigned long long)t->out_of_order, n ? kinds : "none");
	tap_diag("summary, not failed: %llu destination bytes of DMAC_ERROR ops (unspecified)",
		 (unsigned long long)t->unspecified);
}

static void totals(struct chaos_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < CHAOS_CLIENTS; i++) {
		const struct chaos_stats *s = &sh->slot[i];

		t->ops += s->ops;
		t->bytes += s->bytes;
		t->windows += s->windows;
		t->bad_bytes += s->bad_bytes;
		t->stray_bytes += s->stray_bytes;
		t->out_of_order += s->out_of_order;
		t->regressions += s->regressions;
		t->unspecified += s->unspecified;
		for (unsigned k = 0; k < UNDOC_KINDS; k++)
			t->undoc[k] += s->undoc[k];
		t->max_stall_us =
			s->max_stall_us > t->max_stall_us ? s->max_stall_us : t->max_stall_us;
		t->eagain += s->eagain;
		t->etimedout += s->etimedout;
		t->fenced += s->fenced;
		t->frees += s->frees;
		t->chan_swaps += s->chan_swaps;
	}
}

int main(int argc, char **argv)
{
	unsigned seconds = env_uint("CHAOS_SECONDS", env_uint("SOAK_SECONDS", DEFAULT_SECONDS));
	const char *calm_env = getenv("CHAOS_CALM");
	bool calm = calm_env && *calm_env && strcmp(calm_env, "0");
	uint32_t rng;
	uint64_t undoc = 0;
	struct harness_dmad *d;
	struct chaos_stats t;
	struct chaos_devs v;
	int64_t start, end;
	bool clean = true, alive;

	seed = getenv("CHAOS_SEED") && *getenv("CHAOS_SEED")
		       ? (uint32_t)strtoul(getenv("CHAOS_SEED"), NULL, 0)
		       : (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	tap_diag("seed %u", seed);
	tap_diag("%u s, %d clients, dmad --engines 2 --fault-injection%s%s%s%s, %s", seconds,
		 CHAOS_CLIENTS, argc > 1 ? " " : "", argc > 1 ? argv[1] : "", argc > 2 ? " " : "",
		 argc > 2 ? argv[2] : "",
		 calm ? "calm (no kills, no device actions)" : "kills and device actions");
	rng = seed * 2654435761u + 7;
	harness_watchdog(seconds + STOP_MS / 1000 + 60);
	d = harness_dmad_start("--engines", "2", "--fault-injection", argc > 1 ? argv[1] : NULL,
			       argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL, NULL);
	sock = d->socket;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("mmap: %m");

	for (unsigned i = 0; i < CHAOS_CLIENTS; i++)
		spawn(i);
	start = harness_now_ms();
	end = start + (int64_t)seconds * 1000;
	chaos_devs_init(&v, sock, seed, seconds, start);
	for (int64_t now = start, next_kill = start + KILL_MIN_MS + rnd(&rng) % KILL_VARY_MS;
	     now < end && harness_dmad_alive(d); now = harness_now_ms()) {
		reap_ended();
		if (!calm && now >= next_kill) {
			kill_one(&rng);
			next_kill = now + KILL_MIN_MS + rnd(&rng) % KILL_VARY_MS;
		}
		if (!calm)
			chaos_devs_step(&v, now);
		usleep(TICK_US);
	}

	chaos_devs_finish(&v);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < CHAOS_CLIENTS; i++)
		if (pids[i] > 0)
			clean &= harness_wait_child(pids[i], STOP_MS, "client at the end");
	alive = harness_dmad_alive(d);
	totals(&t);
	summary(&t, &v);
	for (unsigned k = 0; k < UNDOC_KINDS; k++)
		undoc += t.undoc[k];

	ok(t.ops > 0, "the clients verified %llu ops", (unsigned long long)t.ops);
	ok(t.bad_bytes == 0, "no wrong destination byte (%llu; seed %u)",
	   (unsigned long long)t.bad_bytes, seed);
	ok(t.stray_bytes == 0,
	   "no guard byte changed, no stale copy in a fresh region (%llu; seed %u)",
	   (unsigned long long)t.stray_bytes, seed);
	ok(t.out_of_order == 0, "completions in cookie order (%llu out of order; seed %u)",
	   (unsigned long long)t.out_of_order, seed);
	ok(undoc == 0, "no undocumented error (%llu; seed %u)", (unsigned long long)undoc, seed);
	ok(t.regressions == 0, "no cookie went from complete back to in progress (%llu; seed %u)",
	   (unsigned long long)t.regressions, seed);
	ok(exits == 0 && clean, "every client ran until killed or stopped (%u ended on their own)",
	   exits);
	ok(v.ctl_errors == 0, "dmactl answered every request (%llu did not)",
	   (unsigned long long)v.ctl_errors);
	ok(v.ops_dropped == 0 && v.total_ops > 0,
	   "the daemon's total of copies never went down (%llu readings did; last %llu)",
	   (unsigned long long)v.ops_dropped, (unsigned long long)v.total_ops);
	ok(alive, "dmad ran throughout");
	harness_dmad_finish(d);
	return tap_done();
}
