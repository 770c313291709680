/* SPDX-License-Identifier: MIT */
/*
 * libdmaclient internals: the client and channel objects and the helpers the
 * library's files share. Nothing here is exported: the library is built with
 * -fvisibility=hidden and a version script, and only DMAC_EXPORT functions
 * (all named dmac_*) are visible to applications.
 */
#ifndef DMAC_INTERNAL_H
#define DMAC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaclient.h"
#include "dmad_proto.h"
#include "dmad_ring.h"

#define DMAC_EXPORT __attribute__((visibility("default")))

/* How long a restart of dmad may last before calls say -ENODEV. */
#define DMAC_RESTART_TIMEOUT_NS 10000000000ull

/* Events read but not yet dispatched; the oldest is dropped on overflow. */
#define DMAC_EVQ_LEN 64

/* Submission flags pass straight through to the descriptor. */
#define DMAC_SUBMIT_FLAGS (DMAC_FENCE | DMAC_HINT_CACHE | DMAC_NO_STRIPE)
_Static_assert(DMAC_FENCE == DMAD_PROTO_DF_FENCE, "fence flag maps 1:1");
_Static_assert(DMAC_HINT_CACHE == DMAD_PROTO_DF_LLC, "cache hint maps 1:1");
_Static_assert(DMAC_NO_STRIPE == DMAD_PROTO_DF_NO_STRIPE, "no-stripe maps 1:1");

struct dmac_region {
	uintptr_t addr;
	size_t len;
	uint16_t id; /* descriptors carry 16-bit region ids */
	bool owned;  /* made by dmac_region_alloc(): unmap on free */
};

/*
 * A channel's copy of the region its last lookup hit, valid while @gen
 * matches the client's region_gen: the common case (same buffers again)
 * costs no search.
 */
struct dmac_region_hit {
	uintptr_t addr;
	size_t len;
	uint64_t gen;
	uint16_t id;
};

struct dmac_client {
	int sock;
	int epfd; /* dmac_fd(): the socket and evfd */
	int evfd; /* readable while evq holds events */
	/*
	 * Set once the daemon is gone. Channel threads read it while the
	 * control thread may set it, hence __atomic loads and stores.
	 */
	bool dead;
	/*
	 * dmad's robust futex word in the liveness page (dmad_proto.h), mapped
	 * read-only: one load tells a client that polls that dmad is gone.
	 */
	const uint32_t *life;
	/*
	 * While dmad restarts (restart.c): since when a call has seen it away
	 * (0: it is not), and how long it may be. The socket and the event
	 * queue are read under @lock: a channel thread that finds dmad away
	 * looks for the RESTARTED event itself, unless another thread is
	 * reading already.
	 */
	uint64_t gap_since_ns;
	uint64_t restart_timeout_ns;
	/* Bumped by a RESTARTED after a crash: flows opened before it ended. */
	uint32_t rx_epoch;
	pthread_mutex_t lock;
	uint32_t seq;
	uint32_t client_id;
	uint32_t copybreak;

	/*
	 * Sorted by addr, non-overlapping. The submit path reads it without a
	 * lock: regions change only while no channel of this client submits.
	 */
	struct dmac_region *regions;
	size_t nregions;
	size_t regions_cap;
	uint64_t region_gen; /* bumped on every change; starts at 1 */

	struct dmac_chan *chans;
	struct dmac_rx *rxs; /* open receive flows */

	struct dmad_proto_event evq[DMAC_EVQ_LEN];
	unsigned evq_head;
	unsigned evq_len;
	void (*event_cb)(const struct dmac_event *, void *);
	void *event_arg;
};

struct dmac_chan {
	/* Fast path: private to the channel's thread except what lives in ring. */
	struct dmad_proto_ring *ring;
	struct dmad_proto_desc *sq;
	const struct dmad_proto_err *err;
	struct dmac_client *client;
	uint32_t err_entries; /* copied at get time: the daemon cannot change it */
	uint32_t tail;	      /* next slot to fill; published up to published */
	uint32_t published;   /* last value stored to ring->sq_tail */
	uint32_t cached_head; /* ring->sq_head as last read */
	uint32_t last_used;   /* newest cookie handed out, ring or CPU */
	uint32_t dev_last;    /* newest cookie written to the ring */
	uint32_t done_floor;  /* every cookie up to it is known complete */
	size_t copybreak;
	int doorbell;
	struct dmac_region_hit src_hit;
	struct dmac_region_hit dst_hit;

	/* dmac_wait(): whether another task wants this thread's CPU (wait.c). */
	struct {
		uint64_t yield_ns;    /* the cheapest sched_yield() seen: one with nobody to run */
		uint64_t shared_ns;   /* shared holds until then, unless a yield says so again */
		uint64_t hog_ns;      /* a yield ran a hog: none until then */
		uint64_t hog_hold_ns; /* the last such hold's length */
		bool shared;	      /* a recent yield let another task run */
	} wait;

	/* Slow path. */
	uint32_t chan_id;
	size_t ring_size;
	char device[DMAD_PROTO_NAME_MAX];
	struct dmac_chan *next;
	struct dmac_chan **pprev;
};

/* restart.c: dmad's liveness word says gone: is this a restart, still in its bound? */
bool __dmac_client_gone_slow(struct dmac_client *c);

static inline bool __dmac_client_dead(const struct dmac_client *c)
{
	if (__atomic_load_n(&c->dead, __ATOMIC_RELAXED))
		return true;
	if (__builtin_expect(!dmad_proto_life_gone(__atomic_load_n(c->life, __ATOMIC_RELAXED)), 1))
		return false;
	return __dmac_client_gone_slow((struct dmac_client *)c);
}

/* Will nothing more complete on @ch? The daemon stopped, or is gone. */
static inline bool __dmac_chan_gone(const struct dmac_chan *ch)
{
	return (__atomic_load_n(&ch->ring->flags, __ATOMIC_RELAXED) & DMAD_PROTO_RF_DEAD) ||
	       __dmac_client_dead(ch->client);
}

void __dmac_client_mark_dead(struct dmac_client *c);
enum dmac_status __dmac_chan_status(struct dmac_chan *ch, dmac_cookie_t cookie);
int __dmac_client_check_alive(struct dmac_client *c);
/* transport.c: read pending messages without waiting; events are queued.
 * The _locked one with c->lock held. */
void __dmac_events_read(struct dmac_client *c);
void __dmac_events_read_locked(struct dmac_client *c);
int __dmac_request(struct dmac_client *c, uint16_t type, const void *body, size_t len, int fd,
		   void *rep, size_t rep_len, int *ret_fds, unsigned nfds);
/* The same, and c->rx_epoch as the reply came (*@ret_epoch): a request
 * sent again after a crash is answered by the next dmad, whose flows that
 * crash did not end. */
int __dmac_request_epoch(struct dmac_client *c, uint16_t type, const void *body, size_t len, int fd,
			 void *rep, size_t rep_len, int *ret_fds, unsigned nfds,
			 uint32_t *ret_epoch);

const struct dmac_region *__dmac_region_lookup(const struct dmac_client *c, uintptr_t addr,
					       size_t len);
void __dmac_regions_free(struct dmac_client *c);

#endif /* DMAC_INTERNAL_H */
