/* SPDX-License-Identifier: MIT */
/*
 * dmad restarting in place (dmactl restart) as a client sees it: the
 * liveness page's mutex word says its owner is gone, as after a crash, but
 * the page's handover word says dmad execs its successor, which keeps this
 * client's connection, rings and regions and sends RESTARTED with a new
 * page. Until then every call goes on as during a drain. Only reached when
 * the word says gone: the fast path still costs one load.
 */
#include <poll.h>
#include <time.h>

#include "internal.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool handing_over(const struct dmac_client *c)
{
	const uint32_t *word =
		(const uint32_t *)((const uint8_t *)c->life + DMAD_PROTO_LIFE_HANDOVER_OFF);

	return __atomic_load_n(word, __ATOMIC_ACQUIRE) != 0;
}

bool __dmac_client_gone_slow(struct dmac_client *c)
{
	struct pollfd p = {.fd = c->sock};
	uint64_t now, since;

	if (!handing_over(c)) {
		__dmac_client_mark_dead(c);
		return true;
	}
	/* The new page may be waiting on the socket: look, unless a request
	 * or dmac_dispatch() on another thread reads it already. */
	if (pthread_mutex_trylock(&c->lock) == 0) {
		__dmac_events_read_locked(c);
		pthread_mutex_unlock(&c->lock);
	}
	if (__atomic_load_n(&c->dead, __ATOMIC_RELAXED))
		return true;
	if (!dmad_proto_life_gone(__atomic_load_n(c->life, __ATOMIC_RELAXED)))
		return false;
	now = now_ns();
	since = __atomic_load_n(&c->gap_since_ns, __ATOMIC_RELAXED);
	if (!since) {
		/* Threads racing here store nearly the same time: either will do. */
		__atomic_store_n(&c->gap_since_ns, now, __ATOMIC_RELAXED);
		since = now;
	}
	/* Every holder of the connection closed it: the new dmad refused the
	 * state, or died too. */
	if ((poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) ||
	    now - since > __atomic_load_n(&c->restart_timeout_ns, __ATOMIC_RELAXED)) {
		__dmac_client_mark_dead(c);
		return true;
	}
	return false;
}
