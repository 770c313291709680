/* SPDX-License-Identifier: MIT */
/*
 * dmac_wait() beside a task that keeps the CPU. The client and a busy-loop
 * thread share one CPU; dmad's worker copies (its CPU engine) on another.
 * A sched_yield() there waits out the busy loop's time slice, milliseconds,
 * while the copy was done long before, so once a yield has shown the hog,
 * a wait for the channel's newest copy must not yield again for a while:
 * it spins briefly and sleeps on the futex, whose wake-up preempts the hog.
 *
 * The library's sched_yield() calls are counted by interposing the symbol
 * (the executable's definition comes first in the dynamic linker's search).
 * Before the hog was remembered, every wait yielded once: COPIES yields.
 * Every copy is checked byte by byte, with guards on both sides.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"

#define COPIES	200
#define LEN	(64u << 10)
#define SLOT	(LEN + 2 * COPIER_GUARD)
#define SRC_LEN (4u << 20)
#define HOLD_MS 10  /* lib/wait.c's HOG_HOLD_NS: a long yield at most this often */
#define LONG_US 200 /* and its HOG_NS */

static unsigned long yields, long_yields;
static int hog_stop;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Counted; a yield that took over LONG_US ran the busy loop (or another
 * task that kept the CPU, under a loaded test run: those count too). */
int sched_yield(void)
{
	int64_t t0 = now_us();
	int r = (int)syscall(SYS_sched_yield);

	__atomic_add_fetch(&yields, 1, __ATOMIC_RELAXED);
	if (now_us() - t0 > LONG_US)
		__atomic_add_fetch(&long_yields, 1, __ATOMIC_RELAXED);
	return r;
}

static void *hog(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&hog_stop, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* The first two CPUs we may run on, or false. */
static bool two_cpus(int *a, int *b)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return false;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &set))
			*(n++ ? b : a) = cpu;
	return n == 2;
}

static size_t src_off(unsigned i)
{
	return (size_t)(i * 4096u) % (SRC_LEN - LEN);
}

static bool pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* Every slot and its guards in the destination's pattern, before the clock. */
static void fill_slots(struct copier *k)
{
	pat_fill(k->dst, k->dst_len, 0, k->seed, false);
}

/* Copy @i into slot @i: nothing else between the waits, so that dmad's
 * worker is still looking (no doorbell) when the next copy comes. */
static int copy_one(struct copier *k, unsigned i)
{
	dmac_cookie_t c = dmac_memcpy(k->ch, k->dst + (size_t)i * SLOT + COPIER_GUARD,
				      k->src + src_off(i), LEN, 0);
	int r;

	if (c < 0)
		return tap_diag("copy %u: %d", i, c), c;
	r = dmac_wait(k->ch, c, COPIER_WAIT_MS);
	if (r < 0)
		return tap_diag("copy %u: dmac_wait %d", i, r), r;
	return 0;
}

/* Each slot holds its copy, its guards and the gaps between are untouched. */
static bool slots_right(const struct copier *k)
{
	for (unsigned i = 0; i < COPIES; i++) {
		size_t at = (size_t)i * SLOT;
		const uint8_t *s = k->dst + at;

		if (pat_check(s, COPIER_GUARD, at, k->seed, false) != COPIER_GUARD ||
		    pat_check(s + COPIER_GUARD, LEN, src_off(i), k->seed, true) != LEN ||
		    pat_check(s + COPIER_GUARD + LEN, COPIER_GUARD, at + COPIER_GUARD + LEN,
			      k->seed, false) != COPIER_GUARD)
			return tap_diag("slot %u: wrong bytes in or around the destination", i),
			       false;
	}
	return true;
}

int main(void)
{
	struct harness_dmad *d;
	struct copier k;
	char lcores[32];
	pthread_t t;
	int64_t t0, ms;
	unsigned long n;
	int a, b, r = 0;

	if (!two_cpus(&a, &b))
		tap_skip_all("needs two CPUs: one for the client and a hog, one for dmad");
	harness_watchdog(120);
	snprintf(lcores, sizeof(lcores), "(0-1)@(%d)", b);
	d = harness_dmad_start("--engines", "cpu", "--", "--lcores", lcores, NULL);
	if (!ok(copier_init(&k, d->socket, "wait-hog", SRC_LEN, COPIES * SLOT, LEN, 41) == 0,
		"a channel on dmad's CPU engine, dmad on CPU %d", b))
		return tap_done();
	dmac_chan_set_copybreak(k.ch, 0);
	fill_slots(&k);
	if (!ok(pin(a), "the client on CPU %d", a))
		return tap_done();
	if (!ok(pthread_create(&t, NULL, hog, NULL) == 0, "a busy loop beside it on CPU %d", a))
		return tap_done();

	t0 = harness_now_ms();
	for (unsigned i = 0; i < COPIES && r == 0; i++)
		r = copy_one(&k, i);
	ms = harness_now_ms() - t0;
	n = __atomic_load_n(&long_yields, __ATOMIC_RELAXED);
	__atomic_store_n(&hog_stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);

	ok(r == 0 && slots_right(&k),
	   "%d copies of %u KiB waited for with dmac_wait(), every byte and guard checked", COPIES,
	   LEN >> 10);
	ok(n >= 1,
	   "a yield of the waits ran the busy loop (%lu of %lu took over %d us): they saw it", n,
	   __atomic_load_n(&yields, __ATOMIC_RELAXED), LONG_US);
	ok(n <= 2 + (unsigned long)ms / HOLD_MS,
	   "and not at every wait: %lu such yields in %lld ms, at most one per %d ms and 2", n,
	   (long long)ms, HOLD_MS);
	copier_fini(&k);
	harness_dmad_finish(d);
	return tap_done();
}
