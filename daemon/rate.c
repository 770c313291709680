/* SPDX-License-Identifier: MIT */
#include <rte_cycles.h>

#include "rate.h"

void rate_set(struct rate *r, uint64_t bps)
{
	uint64_t burst = bps / (1000 / RATE_BURST_MS);

	if (burst < RATE_BURST_MIN)
		burst = RATE_BURST_MIN;
	__atomic_store_n(&r->burst, burst, __ATOMIC_RELAXED);
	__atomic_store_n(&r->tokens, (int64_t)burst, __ATOMIC_RELAXED);
	__atomic_store_n(&r->stamp, rte_rdtsc(), __ATOMIC_RELAXED);
	/* Last: a worker that sees the limit sees a full bucket with it. */
	__atomic_store_n(&r->bps, bps, __ATOMIC_RELEASE);
}

bool rate_ready(struct rate *r, uint64_t now)
{
	uint64_t bps = __atomic_load_n(&r->bps, __ATOMIC_ACQUIRE), hz, then, dt;
	int64_t burst, t;

	if (!bps)
		return true;
	then = __atomic_load_n(&r->stamp, __ATOMIC_RELAXED);
	/* One worker refills for the span since the last refill: the one whose
	 * exchange of the stamp succeeds; the others see its tokens. */
	if ((int64_t)(now - then) > 0 &&
	    __atomic_compare_exchange_n(&r->stamp, &then, now, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED)) {
		hz = rte_get_tsc_hz();
		dt = now - then > hz ? hz : now - then;
		burst = (int64_t)__atomic_load_n(&r->burst, __ATOMIC_RELAXED);
		t = __atomic_add_fetch(&r->tokens, (int64_t)((unsigned __int128)dt * bps / hz),
				       __ATOMIC_RELAXED);
		if (t > burst)
			__atomic_sub_fetch(&r->tokens, t - burst, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&r->tokens, __ATOMIC_RELAXED) > 0;
}

void rate_take(struct rate *r, uint64_t bytes)
{
	if (__atomic_load_n(&r->bps, __ATOMIC_RELAXED))
		__atomic_sub_fetch(&r->tokens, (int64_t)bytes, __ATOMIC_RELAXED);
}

uint64_t rate_resume_tsc(const struct rate *r, uint64_t now)
{
	uint64_t bps = __atomic_load_n(&r->bps, __ATOMIC_ACQUIRE);
	int64_t t = __atomic_load_n(&r->tokens, __ATOMIC_RELAXED);

	if (!bps || t > 0)
		return now;
	return now + (uint64_t)((unsigned __int128)(1 - t) * rte_get_tsc_hz() / bps);
}
