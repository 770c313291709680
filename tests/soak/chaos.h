/* SPDX-License-Identifier: MIT */
/*
 * The chaos test's parts: verifying client processes (chaos-client.c,
 * chaos-window.c) that report into memory shared with the parent, and the
 * parent's device loop (chaos-devices.c) that removes, adds and hangs
 * engines with dmactl while they copy.
 */
#ifndef TESTS_SOAK_CHAOS_H
#define TESTS_SOAK_CHAOS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CHAOS_CLIENTS 6

/*
 * What a client may see besides success is -EAGAIN (ring full) and
 * -ETIMEDOUT (from a finite dmac_wait). Everything else on a valid op while
 * dmad lives is undocumented, by kind:
 */
enum chaos_undoc {
	UNDOC_STATUS_ERROR, /* dmac_is_complete() said DMAC_ERROR */
	UNDOC_EINVAL,	    /* -EINVAL for a valid op */
	UNDOC_ENODEV,	    /* -ENODEV while dmad runs */
	UNDOC_EIO,	    /* dmac_wait() said -EIO */
	UNDOC_LOST,	    /* an op never completed (CHAOS_LOST_MS) */
	UNDOC_SETUP,	    /* connect, region alloc/free or chan get failed */
	UNDOC_OTHER,	    /* any other errno */
	UNDOC_KINDS
};

extern const char *const chaos_undoc_name[UNDOC_KINDS];

/* An op not complete after this long is lost (a hang costs the watchdog's 1 s). */
#define CHAOS_LOST_MS 30000

/*
 * One client slot's counters. The slot's current process is the only
 * writer (the parent reaps a killed client before it starts the next in
 * the slot), and it stores each field whole, so a SIGKILL never leaves a
 * torn value: what a killed client had verified stays counted.
 */
struct chaos_stats {
	uint64_t ops, bytes, windows;
	uint64_t bad_bytes;    /* destination bytes that differ from what the ops say */
	uint64_t stray_bytes;  /* guard bytes and fresh-region bytes that changed */
	uint64_t out_of_order; /* a cookie in progress while a later one was complete */
	uint64_t regressions;  /* complete, then in progress again */
	uint64_t unspecified;  /* destination bytes of ops that completed with DMAC_ERROR */
	uint64_t undoc[UNDOC_KINDS];
	uint64_t max_stall_us; /* longest wait of one window for its completions */
	uint64_t eagain, etimedout;
	uint64_t fenced, frees, chan_swaps;
};

#define CHAOS_STAT_ADD(st, field, v) \
	__atomic_store_n(&(st)->field, (st)->field + (v), __ATOMIC_RELAXED)

struct chaos_shared {
	int stop; /* set by the parent: finish the window, clean up, exit 0 */
	struct chaos_stats slot[CHAOS_CLIENTS];
};

/*
 * chaos_client_main() - be client @slot of dmad on @socket until
 * @sh->stop: exits 0 then; 3 after an undocumented error it cannot go on
 * from (counted in the slot before). Every random choice comes from @seed.
 */
__attribute__((noreturn)) void chaos_client_main(const char *socket, unsigned slot, uint32_t seed,
						 pid_t parent, struct chaos_shared *sh);

/* The parent's device loop: one step whenever chaos_devs_step() is due. */
struct chaos_devs {
	const char *socket;
	uint32_t rng;
	unsigned next_n;      /* the N of the next dma_skeletonN to add */
	int64_t next_ms;      /* when the next action is due */
	int64_t nodev_at_ms;  /* when the no-device period starts; in it, when it did;
			       * INT64_MAX once over */
	int64_t nodev_ms;     /* its length */
	int64_t nodev_end_ms; /* while in it: when engines come back (0: not in it) */
	uint64_t removes, adds, hangs, refused;
	uint64_t nodev_total_ms; /* measured: from the last removal to the first add */
	uint64_t ctl_errors;	 /* dmactl could not ask, or no answer in time */
	uint64_t total_ops;	 /* the status's totals.ops, as last read */
	uint64_t ops_dropped;	 /* readings of it below the one before: never allowed */
};

void chaos_devs_init(struct chaos_devs *v, const char *socket, uint32_t seed, unsigned seconds,
		     int64_t start_ms);
/* Do what is due at @now_ms: one action, or the no-device period's steps. */
void chaos_devs_step(struct chaos_devs *v, int64_t now_ms);
/* The run is over: a no-device period still going counts up to now. */
void chaos_devs_finish(struct chaos_devs *v);

#endif /* TESTS_SOAK_CHAOS_H */
