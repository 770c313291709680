/* SPDX-License-Identifier: MIT */
/*
 * dmac_wait(): the rule of dmad's worker (daemon/worker_idle.c) on the
 * client's side. Spin for a bounded time, yielding the CPU while another
 * task wants it (the daemon's worker, or a software engine, may need this
 * very CPU to complete the copy), then sleep on a futex on the ring's
 * completed word. The worker wakes the futex only when it sees
 * DMAD_PROTO_CF_WAITING, so a client that polls costs the worker nothing.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "internal.h"

/* Long enough to catch a small copy on an engine, short enough not to burn a core. */
#define SPIN_NS 30000ull
/* A first look whether another task wants this CPU after this long, then,
 * while none does, every PROBE_NS: a yield runs it, and tells from the time
 * it took whether one did. A worker on another CPU finishes a small copy
 * before the first look; one on this CPU waits for it. */
#define FIRST_PROBE_NS 2000ull
#define PROBE_NS       10000ull
/* A yield that ran another task makes the CPU count as shared this long:
 * the next waits yield at once. */
#define SHARED_NS 100000ull
/* A yield that took this long ran a task that keeps the CPU (a spinning
 * client, a compiler, a software engine's thread): spinning beside it gets
 * nothing done; sleep. And for HOG_HOLD_NS a wait for the channel's newest
 * copy yields to it no more: each yield waits out the hog's time slice
 * (3.5 ms was seen beside dma_skeleton's thread) while the engine has
 * nothing else of ours to do, and a task woken from the futex preempts the
 * hog at once. A wait with copies queued behind its own loses nothing to a
 * slice (the engine works through them meanwhile) and keeps yielding: a
 * futex wake-up per completion would cost the worker and the engine's
 * thread more than the yields do. */
#define HOG_NS	    200000ull
#define HOG_HOLD_NS 10000000ull
/* A hog still there when a hold ends doubles the next hold, up to this:
 * each end of a hold costs one wait a time slice. */
#define HOG_HOLD_MAX_NS 320000000ull
/* The spin beside a hog: a worker on another CPU takes a small copy sooner. */
#define HOG_SPIN_NS 5000ull
/* Sleep in slices so that a daemon that died without a word is noticed. */
#define SLICE_NS  50000000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

/*
 * Give the CPU to whoever wants it; from the time that took, note whether
 * another task ran: a yield that took twice the cheapest seen did. One
 * quick yield proves little (the scheduler runs a task that had more than
 * its share only once the yielder has had as much), so the CPU counts as shared
 * until SHARED_NS passed without one that ran another task. Returns the time.
 */
static uint64_t probe(struct dmac_chan *ch, uint64_t now)
{
	uint64_t took;

	sched_yield();
	took = now_ns() - now;
	if (!ch->wait.yield_ns || took < ch->wait.yield_ns)
		ch->wait.yield_ns = took;
	if (took > HOG_NS) {
		uint64_t hold = ch->wait.hog_hold_ns;

		/* Found again within a hold's length of the last one's end. */
		hold = hold && now < ch->wait.hog_ns + hold ? 2 * hold : HOG_HOLD_NS;
		ch->wait.hog_hold_ns = hold < HOG_HOLD_MAX_NS ? hold : HOG_HOLD_MAX_NS;
		ch->wait.hog_ns = now + took + ch->wait.hog_hold_ns;
	}
	if (took > 2 * ch->wait.yield_ns) {
		ch->wait.shared = true;
		ch->wait.shared_ns = now + took + SHARED_NS;
	} else if (ch->wait.shared && now >= ch->wait.shared_ns) {
		ch->wait.shared = false;
	}
	return took;
}

static int status_ret(enum dmac_status s)
{
	return s == DMAC_ERROR ? -EIO : 0;
}

static void futex_sleep(uint32_t *word, uint32_t seen, uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)};

	/* Not FUTEX_PRIVATE_FLAG: the word is shared with the daemon's process. */
	syscall(SYS_futex, word, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static int gone(struct dmac_chan *ch)
{
	if (__dmac_chan_gone(ch))
		return -ENODEV;
	return __dmac_client_check_alive(ch->client);
}

DMAC_EXPORT int dmac_wait(struct dmac_chan *ch, dmac_cookie_t cookie, int timeout_ms)
{
	uint64_t now = now_ns(), deadline, spin_end, probe_at, took;
	enum dmac_status s;
	uint32_t seen;
	bool hogged;
	int r;

	if (cookie < 0)
		return -EINVAL;
	/* As the kernel's dma_sync_wait(): what is waited for must be issued. */
	dmac_issue_pending(ch);

	deadline = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * NS_PER_MS;
	/* The spin starts now: a doorbell (a system call, tens of us on a VM)
	 * must not use it up. */
	now = now_ns();
	/* Nothing of this channel's queued behind the copy waited for. */
	hogged = now < ch->wait.hog_ns && (int32_t)(ch->dev_last - (uint32_t)cookie) <= 0;
	spin_end = now + (hogged ? HOG_SPIN_NS : SPIN_NS);
	if (spin_end > deadline)
		spin_end = deadline;
	probe_at = now + (ch->wait.shared ? 0 : FIRST_PROBE_NS);
	for (;;) {
		s = __dmac_chan_status(ch, cookie);
		if (s != DMAC_IN_PROGRESS)
			return status_ret(s);
		now = now_ns();
		if (now >= spin_end)
			break;
		/* While another task wants this CPU, it runs at every turn;
		 * beside a hog, the short spin ends in the futex. */
		if (hogged) {
			cpu_relax();
		} else if (ch->wait.shared || now >= probe_at) {
			took = probe(ch, now);
			if (took > HOG_NS)
				break;
			probe_at = now + took + PROBE_NS;
		} else {
			cpu_relax();
		}
	}

	for (;;) {
		seen = dmad_ring_wait_prepare(ch->ring);
		s = __dmac_chan_status(ch, cookie);
		if (s != DMAC_IN_PROGRESS) {
			r = status_ret(s);
			break;
		}
		r = gone(ch);
		if (r < 0)
			break;
		now = now_ns();
		if (now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		futex_sleep(&ch->ring->completed, seen,
			    deadline - now < SLICE_NS ? deadline - now : SLICE_NS);
	}
	dmad_ring_wait_done(ch->ring);
	return r;
}
