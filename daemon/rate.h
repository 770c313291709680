/* SPDX-License-Identifier: MIT */
/*
 * Byte-rate limits: a token bucket per client and per uid. The control
 * thread sets the rate; the workers that serve the owner's channels take
 * tokens from it, possibly several workers at once (a client's channels may
 * sit on engines of different workers), so the shared fields are atomics.
 * A copy is taken while the bucket holds any token and then charged whole:
 * a bucket may go into debt by one descriptor, which a copy larger than the
 * bucket needs to make progress at all, and the debt is paid before the
 * next one. Over any span T a limited owner gets at most rate * T + burst +
 * one descriptor per channel.
 */
#ifndef DMAD_RATE_H
#define DMAD_RATE_H

#include <stdbool.h>
#include <stdint.h>

/* What a bucket may hold, in time at its rate: the burst after a pause. */
#define RATE_BURST_MS 20
/* And at least this many bytes, so that a slow rate still moves 64 KiB copies. */
#define RATE_BURST_MIN (64u << 10)

struct rate {
	uint64_t bps;	/* bytes per second; 0: no limit. Control thread writes */
	uint64_t burst; /* bytes; derived from bps */
	int64_t tokens; /* bytes that may go now; negative: debt. Atomic */
	uint64_t stamp; /* TSC of the last refill. Atomic */
};

/* rate_set() - limit @r to @bps bytes per second (0: none), full. Control thread. */
void rate_set(struct rate *r, uint64_t bps);

/*
 * rate_ready() - refill @r up to TSC @now; true when a copy may go now
 * (no limit, or tokens left). Worker, fast enough for every visit.
 */
bool rate_ready(struct rate *r, uint64_t now);

/* rate_take() - charge @bytes that went. Worker. */
void rate_take(struct rate *r, uint64_t bytes);

/* rate_resume_tsc() - the TSC at which an empty @r has a token again. */
uint64_t rate_resume_tsc(const struct rate *r, uint64_t now);

#endif /* DMAD_RATE_H */
