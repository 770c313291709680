/* SPDX-License-Identifier: MIT */
/*
 * dmac_wait(): spin briefly, then sleep on a futex on the ring's completed
 * word. The worker wakes the futex only when it sees DMAD_PROTO_CF_WAITING,
 * so a client that polls costs the worker nothing.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "internal.h"

/* Long enough to catch a small copy on an engine, short enough not to burn a core. */
#define SPIN_NS	    30000ull
#define YIELD_AFTER 64 /* polls before the spin starts yielding */
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
	uint64_t now = now_ns(), deadline, spin_end;
	enum dmac_status s;
	uint32_t seen;
	int r;

	if (cookie < 0)
		return -EINVAL;
	/* As the kernel's dma_sync_wait(): what is waited for must be issued. */
	dmac_issue_pending(ch);

	deadline = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * NS_PER_MS;
	spin_end = now + SPIN_NS < deadline ? now + SPIN_NS : deadline;
	for (unsigned i = 0;; i++) {
		s = __dmac_chan_status(ch, cookie);
		if (s != DMAC_IN_PROGRESS)
			return status_ret(s);
		if (now_ns() >= spin_end)
			break;
		/*
		 * Past a short pure spin, offer the CPU: on a host where this
		 * thread shares a CPU with the daemon's worker (or a software
		 * engine), spinning would keep from running the very thread that
		 * completes the copy. With a CPU to itself, the yield returns at once.
		 */
		if (i >= YIELD_AFTER)
			sched_yield();
		else
			cpu_relax();
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
