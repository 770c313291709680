/* SPDX-License-Identifier: MIT */
/*
 * Sharing an engine between the channels a worker serves on it: deficit
 * round robin in bytes, weighted, with a cap on what each channel may keep
 * on the engine while others have work, and byte-rate limits (rate.h).
 * Worker side only; the control thread sets chan.weight and chan.rate.
 */
#ifndef DMAD_FAIR_H
#define DMAD_FAIR_H

#include "daemon.h"

/* Weights, as dmactl set takes them; equal by default (cgroup v2's convention). */
#define FAIR_WEIGHT_MIN	    DMAD_PROTO_SHARE_WEIGHT_MIN
#define FAIR_WEIGHT_DEFAULT DMAD_PROTO_SHARE_WEIGHT_DEF
#define FAIR_WEIGHT_MAX	    DMAD_PROTO_SHARE_WEIGHT_MAX

/* fair_init() - once, before the workers start. */
void fair_init(void);

/*
 * fair_serve() - one round over @a's channels on @d at TSC @now: takes what
 * each may, in turn. A channel held back by its rate limit is left in its
 * ring; *ret_resume (when not 0 already earlier) becomes the TSC at which
 * the first such may go again. Returns the descriptors taken.
 */
unsigned fair_serve(struct device *d, const struct chan_array *a, uint64_t now,
		    uint64_t *ret_resume);

/* fair_needed() - must @a on @d go through fair_serve(), or is it the
 * single-channel path with nothing to share and no limit? */
static inline bool fair_needed(const struct chan_array *a)
{
	return a->n > 1 || __atomic_load_n(&a->c[0]->rate[0], __ATOMIC_RELAXED) ||
	       __atomic_load_n(&a->c[0]->rate[1], __ATOMIC_RELAXED);
}

/* fair_held() - is what @ch has queued held back by a rate limit now? */
bool fair_held(struct chan *ch, uint64_t now);

#endif /* DMAD_FAIR_H */
