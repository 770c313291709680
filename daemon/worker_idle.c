/* SPDX-License-Identifier: MIT */
/*
 * What a worker does between passes that found nothing new: spin, yield or
 * sleep (io_uring's SQPOLL idle, KVM's halt polling), so that it answers
 * within microseconds while work comes, costs nothing while none does, and
 * never keeps from its CPU the client or engine thread it is waiting for.
 *
 * - Spin, in time. After work it keeps polling for spin_tsc, so that the
 *   next descriptor costs the client no doorbell and the worker no wake-up
 *   (on a VM a cross-CPU wake-up is 20-70 us). Time, not a count of PAUSEs,
 *   whose cost varies 10x across CPUs. The bound adapts to the gaps between
 *   bursts as KVM's halt polling does: work that came back within SPIN_MAX
 *   of a sleep (a longer spin would have caught it) stretches it to cover
 *   that gap, a longer gap halves it.
 *
 * - Yield while another task is runnable on this CPU. Every PROBE it calls
 *   sched_yield() and times it: a yield that took more than twice the
 *   cheapest one seen let another task run. While that is so it yields at
 *   every pass instead of pausing, so that a client in dmac_wait(), or a
 *   software engine's thread, on the same CPU runs now rather than at the
 *   end of our time slice. (The signal costs nothing more than the yield;
 *   reading /proc/self/task/TID/schedstat costs more than one, and says
 *   only what already happened to us.)
 *
 * - Waiting on engines: a hardware engine is only polled; a software one
 *   (d->shares_cpu) too for ENGINE_SPIN after it last made progress, as a
 *   copy on another CPU is done by then, and only then is yielded to as above.
 *
 * - Sleep beside a hog. A yield that took longer than HOG means the other
 *   task keeps the CPU for long stretches (a client spinning on
 *   dmac_is_complete(), a compiler): a worker that stays runnable beside it
 *   sees new work only when the hog's slice ends, milliseconds later. So for
 *   HOG_HOLD it sleeps as soon as it has nothing in flight: the client's
 *   doorbell then wakes it, and a woken task preempts a spinning one.
 *
 * - Sleep: NEED_WAKEUP in every ring it serves, then epoll, as before;
 *   copies held back by a rate limit do not keep it awake, and the sleep
 *   ends when the first of them may go.
 */
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "engine.h"
#include "fair.h"
#include "worker.h"

#define SLEEP_MS    100	     /* upper bound, so a stop request is seen promptly */
#define SPIN_MIN_NS 10000u   /* spin at least this long after work */
#define SPIN_MAX_NS 200000u  /* and at most this long (KVM's halt_poll_ns default) */
#define PROBE_NS    20000u   /* while alone, look for another task this often */
#define HOG_NS	    200000u  /* a task that kept the CPU this long is a hog */
#define HOG_HOLD_NS 10000000 /* then sleep when idle for this long, then look again */
/* Waiting on a software engine, yield only after this long without a
 * completion: a copy on another CPU is done by then (a 64 KiB one takes
 * ~4 us), and switching to another process and back costs ~12 us here. */
#define ENGINE_SPIN_NS 8000u
/* Busy on a CPU another task wants, offer it at least this often: with a
 * completion every few us (a greedy client's copies) no pass is idle, and
 * a light client that yielded to us waited for the tick (0.5 ms seen). */
#define TURN_NS 50000u

enum worker_cpu {
	CPU_ALONE,  /* nothing else wants this CPU: pause between passes */
	CPU_SHARED, /* another task does, and gives it back soon: yield at every pass */
	CPU_HOGGED, /* another task keeps it: sleep rather than spin */
};

/* The bounds above in TSC ticks: set by workers_init() before the workers
 * start (the same values each time), then only read. */
static struct {
	uint64_t spin_min, spin_max, probe, hog, hog_hold, engine_spin, turn;
} tsc;

static uint64_t ns_to_tsc(uint64_t ns)
{
	return rte_get_tsc_hz() * ns / NS_PER_S;
}

void worker_idle_init(struct worker *w)
{
	tsc.spin_min = ns_to_tsc(SPIN_MIN_NS);
	tsc.spin_max = ns_to_tsc(SPIN_MAX_NS);
	tsc.probe = ns_to_tsc(PROBE_NS);
	tsc.hog = ns_to_tsc(HOG_NS);
	tsc.hog_hold = ns_to_tsc(HOG_HOLD_NS);
	tsc.engine_spin = ns_to_tsc(ENGINE_SPIN_NS);
	tsc.turn = ns_to_tsc(TURN_NS);
	w->spin_tsc = tsc.spin_min;
	w->work_tsc = w->probe_tsc = rte_rdtsc();
	w->yield_tsc = UINT64_MAX;
	w->cpu = CPU_ALONE;
}

/* Give the CPU to whoever wants it, and tell from the time that took who did. */
static void probe(struct worker *w, uint64_t now)
{
	uint64_t took = rte_rdtsc();

	sched_yield();
	w->gave_tsc = rte_rdtsc();
	took = w->gave_tsc - took;
	if (took < w->yield_tsc)
		w->yield_tsc = took;
	if (took > tsc.hog) {
		w->cpu = CPU_HOGGED;
		w->cpu_tsc = now + took + tsc.hog_hold;
	} else if (took > 2 * w->yield_tsc) {
		w->cpu = CPU_SHARED;
		w->cpu_tsc = now + took + tsc.probe;
	} else if (w->cpu == CPU_SHARED && (int64_t)(now - w->cpu_tsc) >= 0) {
		/* Not one yield let another task run for a while. (One alone
		 * proves little: the scheduler runs a task that had more than
		 * its share of the CPU only once the yielder had as much.) */
		w->cpu = CPU_ALONE;
	}
	w->probe_tsc = now + took + tsc.probe;
}

void worker_saw_work(struct worker *w, uint64_t now, bool woke)
{
	if (w->slept) {
		uint64_t gap = now - w->work_tsc;

		/* Spinning through this gap would have saved the sleep: next time, do. */
		if (gap < tsc.spin_max)
			w->spin_tsc =
				RTE_MIN(RTE_MAX(2 * w->spin_tsc, gap + gap / 4), tsc.spin_max);
		else
			w->spin_tsc = RTE_MAX(w->spin_tsc / 2, tsc.spin_min);
		w->slept = false;
	}
	w->work_tsc = now;
	w->quiet = 0;
	/* The client just woken may be waiting for this very CPU: look now. */
	if (woke)
		w->probe_tsc = now;
	if (w->cpu == CPU_SHARED && now - w->gave_tsc >= tsc.turn)
		probe(w, now);
}

bool worker_idle(struct worker *w, uint64_t now, bool inflight, bool shares_cpu)
{
	if (w->cpu == CPU_HOGGED && (int64_t)(now - w->cpu_tsc) >= 0) {
		w->cpu = CPU_ALONE;
		w->probe_tsc = now;
	}
	if (!inflight) {
		if (now - w->work_tsc >= w->spin_tsc || w->cpu == CPU_HOGGED)
			return true;
	} else if (!shares_cpu || now - w->work_tsc < tsc.engine_spin) {
		/* A hardware engine: nothing on this CPU makes it finish sooner.
		 * A software one that has had the work only a moment finishes on
		 * its own CPU sooner than a yield and back would take. */
		rte_pause();
		return false;
	} else if (w->cpu == CPU_HOGGED) {
		/* A yield would cost a time slice: only when the engine has been
		 * slow, in case its thread is queued behind us on this CPU. */
		if (now - w->work_tsc > tsc.hog && (int64_t)(now - w->probe_tsc) >= 0)
			probe(w, now);
		else
			rte_pause();
		return false;
	}
	if (w->cpu == CPU_SHARED || (int64_t)(now - w->probe_tsc) >= 0)
		probe(w, now);
	else
		rte_pause();
	return false;
}

/* Tell the rings (NEED_WAKEUP) that we sleep or not. */
static void set_need_wakeup(struct worker *w, bool on)
{
	struct dev_array *devs = rcu_deref(w->devs);

	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct chan_array *a = rcu_deref(devs->d[i]->chans);

		for (uint32_t j = 0; a && j < a->n; j++)
			dmad_ring_cons_need_wakeup(a->c[j]->ring, on);
	}
}

static bool any_pending(struct worker *w)
{
	struct dev_array *devs = rcu_deref(w->devs);

	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct chan_array *a = rcu_deref(devs->d[i]->chans);

		for (uint32_t j = 0; a && j < a->n; j++) {
			struct chan *ch = a->c[j];

			/* Queued behind a rate limit: the sleep ends in time for it. */
			if (!ch->faulted && dmad_ring_cons_avail(ch->ring, ch->head) &&
			    !fair_held(ch, rte_rdtsc()))
				return true;
		}
	}
	return false;
}

/*
 * An engine that is a polling thread (d->parks, e.g. dma_skeleton: about
 * 15 % of a CPU while idle) is stopped while we sleep with nothing in
 * flight; execute() starts it again with the next descriptor. Others are
 * left alone: stopping a hardware engine can take milliseconds.
 */
static void park_engines(struct worker *w)
{
	struct dev_array *devs = rcu_deref(w->devs);

	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct device *d = devs->d[i];

		if (d->parks && !d->parked && !d->failed && !d->fault_hang &&
		    d->fifo_head == d->fifo_tail && d->engine->stop(d) == 0)
			d->parked = d->stopped = true;
	}
}

/* How long to sleep: SLEEP_MS, or until a rate-limited channel may go. */
static int sleep_ms(const struct worker *w)
{
	uint64_t now = rte_rdtsc(), ms;

	if (!w->resume_tsc)
		return SLEEP_MS;
	if ((int64_t)(w->resume_tsc - now) <= 0)
		return 0;
	ms = (w->resume_tsc - now) * MS_PER_S / rte_get_tsc_hz() + 1;
	return ms < SLEEP_MS ? (int)ms : SLEEP_MS;
}

void worker_sleep(struct worker *w)
{
	struct epoll_event ev[8];

	w->slept = true;
	set_need_wakeup(w, true);
	dmad_ring_cons_sleep_fence();
	if (!any_pending(w) && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		/* Only once a whole sleep passed without work: parking and the
		 * restart cost a millisecond or so, too much between bursts. */
		if (w->quiet)
			park_engines(w);
		/* Offline: a grace period need not wait for a sleeping worker. */
		rte_rcu_qsbr_thread_offline(dmad.qs, w->idx);
		/* Edge-triggered eventfds: nothing to read back, so no fd number
		 * is ever used after the control thread may have closed it. */
		w->quiet = epoll_wait(w->epfd, ev, 8, sleep_ms(w)) == 0 && !w->resume_tsc
				   ? w->quiet + 1
				   : 0;
		rte_rcu_qsbr_thread_online(dmad.qs, w->idx);
		w->gave_tsc = rte_rdtsc();
	}
	/* Channels may have come and gone while we slept: clear on the current set. */
	set_need_wakeup(w, false);
}

void worker_kick(struct worker *w)
{
	uint64_t one = 1;
	/* Only fails when the counter is saturated: a wake-up is pending anyway. */
	ssize_t r = write(w->wake_fd, &one, sizeof(one));

	(void)r;
}
