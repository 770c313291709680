/* SPDX-License-Identifier: MIT */
/*
 * A client process that copies verified data without pause while devices
 * come and go under it, and says afterwards what it saw: every copy checked
 * byte for byte with guards around it (copier.h's patterns), completion
 * order checked while copies are still in flight, and the longest time one
 * dmac_wait() took, which is how long a removal stalled this client.
 */
#ifndef TESTS_HOTPLUG_LOAD_H
#define TESTS_HOTPLUG_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LOAD_WHY_MAX 200

/* Written by the loader process in one pipe write (under PIPE_BUF). */
struct load_result {
	uint64_t rounds, copies, bytes;
	uint64_t max_stall_us;	  /* longest single dmac_wait() */
	uint64_t move_stall_us;	  /* ... in the few rounds up to news of a move */
	uint64_t max_ev_stall_us; /* longest stall the daemon's events reported */
	uint32_t ev_moved, ev_cpu, ev_added;
	uint32_t rounds_on_cpu; /* rounds finished while on the daemon's CPU engine */
	uint32_t devices_seen;	/* changes of dmac_chan_device() noticed, plus one */
	uint32_t copybreak;	/* the channel's, as the library reports it */
	int32_t err;		/* 0, or the first failure's -errno (-EILSEQ: bad data/order) */
	char last_dev[32];	/* dmac_chan_device() at the end */
	char why[LOAD_WHY_MAX]; /* what went wrong, for a person */
};

/*
 * load_run() - connect to @socket as @name, take a channel and copy in
 * rounds until @stop_fd is readable or @deadline_ms (harness_now_ms() clock,
 * 0: none) passes. After each verified round, writes one byte to
 * @round_fd (if >= 0; a full pipe drops it). Stops at the first failure.
 * Fills @res; returns its err.
 */
int load_run(const char *socket, const char *name, uint32_t seed, int stop_fd, int round_fd,
	     int64_t deadline_ms, struct load_result *res);

/* A loader in its own process, started by a test. */
struct loader {
	pid_t pid;
	int stop_fd;  /* a byte written here tells the loader to stop */
	int round_fd; /* a byte arrives after each verified round */
	int res_fd;   /* its struct load_result arrives here */
};

/* Fork a loader; bails out of the test if it cannot. */
void loader_start(struct loader *l, const char *socket, const char *name, uint32_t seed);

/*
 * loader_rounds() - forget the rounds reported so far, then wait up to
 * @timeout_ms for @n more: proof that the client makes progress now.
 */
bool loader_rounds(struct loader *l, unsigned int n, int timeout_ms);

/*
 * Stop it and collect its result. Returns true when it reported one and
 * exited 0; @res is zeroed with err set when it reported none.
 */
bool loader_stop(struct loader *l, struct load_result *res);

#endif /* TESTS_HOTPLUG_LOAD_H */
