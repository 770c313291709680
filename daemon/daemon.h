/* SPDX-License-Identifier: MIT */
/*
 * The daemon's core objects and who may touch what.
 *
 * The control thread owns every list and every allocation. Workers only read
 * what the control thread publishes (with a release store, retired after an
 * RCU grace period) and write their own per-device and per-channel progress
 * fields, which the control thread reads with acquire loads.
 */
#ifndef DMAD_DAEMON_H
#define DMAD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_rcu_qsbr.h>

#include "dmad_proto.h"
#include "dmad_ring.h"
#include "quota.h"
#include "rate.h"
#include "validate.h"

#define MAX_WORKERS 16
#define MAX_DEVICES 32

struct client;
struct device;
struct engine_ops;
struct removal;

/* A registered client region: the daemon's own mapping of the client's memfd. */
struct region {
	struct region_view view;
	uint32_t id;
	int fd;			 /* the client's memfd, kept for the next dmad (handover) */
	int dma_mapped;		 /* registered with DPDK for non-SVA devices */
	bool retired;		 /* unregistered; its slot and id are kept for a while */
	struct quota_acct *acct; /* charged while mapped; NULL: dmad's own */
};

struct chan {
	/* Worker side: touched on every poll, written by the owning worker only. */
	struct dmad_proto_ring *ring;
	struct dmad_proto_desc *sq;
	struct dmad_proto_err *err; /* from our own geometry, never the shared header */
	uint32_t sq_mask;
	uint32_t head;	    /* consumer index, published as ring->sq_head */
	uint32_t inflight;  /* descriptors consumed and not yet retired */
	uint32_t faulted;   /* producer index out of range: stop reading */
	uint32_t err_tail;  /* private copy: the client can scribble on the ring's */
	uint32_t stop_tail; /* on shutdown: what the client had issued; served, no more */
	uint64_t consumed;  /* descriptors taken off the ring, ever */
	uint64_t retired;   /* of those, completed (ok or not), ever */
	uint64_t ops, bytes, errors;
	struct region_table *const *regions; /* the owner's, RCU-published */
	/* Sharing the engine (fair.c): set by the control thread, read by the worker. */
	uint32_t weight; /* FAIR_WEIGHT_MIN..MAX; its share: weight / the sum of those with work */
	struct rate *rate[2]; /* the owner's byte-rate limits (client, uid); NULL: none */
	/* ...and the worker's own bookkeeping for it. */
	int64_t deficit;	 /* deficit round robin: bytes it may take on its turn */
	uint64_t inflight_bytes; /* bytes of the descriptors in flight */
	uint64_t active_tsc;	 /* it last had work queued or in flight */
	uint32_t stripes;	 /* stripe.h: its striped copies in flight */
	/* A copy at the head done in chunks (worker_chunk.c): on which engine,
	 * at which consumed count, how many bytes so far. */
	const struct device *chunk_dev;
	uint64_t chunk_at;
	uint32_t chunk_done;

	/* Control side. */
	uint32_t id;
	uint32_t caps;
	uint32_t copybreak;
	uint32_t ring_size;
	int ring_fd;
	int doorbell_fd;
	struct quota_acct *acct; /* charged from create to destroy */
	struct device *dev;	 /* NULL: CPU fallback in the library, or moving */
	struct removal *moving;	 /* detached from a device being removed */
	uint64_t gone_token;	 /* chan_kill(): its grace period */
	bool dead;		 /* chan_kill()ed: never attached again */
	uint32_t owner_id;	 /* for the logs: the client's id */
	int node;		 /* the owner's NUMA node when it took the channel, or -1 */
	bool rebalancing;	 /* unpublished, draining to move to a less loaded engine */
	uint64_t balance_bytes;	 /* hotplug_balance.c: bytes at its last look... */
	uint64_t balance_rate;	 /* ...and per second since the one before */
	struct client *client;	 /* the session that owns it; NULL for rx flows */
	struct chan *next;	 /* client's list */
	struct chan *all_next;	 /* chan.c's list of every channel */
	struct chan **all_pprev;
};

struct chan_array {
	uint32_t n;
	struct chan *c[];
};

/* What a fifo entry stands for (stripe.h). */
enum inflight_kind {
	INFLIGHT_OP,	    /* a descriptor: its retirement completes its cookie */
	INFLIGHT_GATE,	    /* a striped copy: completes its cookie once its parts are done */
	INFLIGHT_PART,	    /* one part of a striped copy, on this or another engine */
	INFLIGHT_PART_DONE, /* a part accounted for already: its slot only */
};

/*
 * One descriptor the worker handed to an engine (or executed itself). The
 * transfer is kept so that, if the engine dies with it, the CPU can redo it.
 */
struct inflight {
	struct chan *ch;
	uint32_t cookie;
	uint32_t len;
	int32_t status;
	uint8_t on_dev; /* 0: already done by the worker's CPU (fill emulation, errors) */
	uint8_t op;
	uint8_t kind; /* enum inflight_kind */
	uint8_t *src_va;
	uint8_t *dst_va;
	union {
		uint64_t pattern;      /* FILL */
		struct inflight *gate; /* INFLIGHT_PART: the entry that completes its copy */
		uint32_t parts;	       /* INFLIGHT_GATE: parts not done yet */
	};
};

struct device {
	/* Read by the worker. */
	const struct engine_ops *engine; /* engine.h */
	int16_t dev_id;			 /* dmadev engines: DPDK's id (-1 for others) */
	uint16_t vchan;
	void *priv;		  /* engines that need more state than the above */
	uint64_t capa;		  /* RTE_DMA_CAPA_* */
	struct chan_array *chans; /* RCU-published by the control thread */
	uint32_t failed;	  /* control -> worker: engine gone, redo in-flight by CPU */
	uint32_t fault_hang;	  /* fault injection: stop submitting and reaping */
	bool parks;		  /* engine quirk: a thread that polls, stopped while idle */
	bool shares_cpu;	  /* engine quirk: runs on host CPUs: yield while waiting */
	bool parked;		  /* worker-owned: stopped while its worker sleeps */
	bool stopped;		  /* worker-owned: the engine is stopped (parked or failed) */
	uint32_t stripe_off;	  /* control -> worker: going away, take no more stripe parts */
	bool copies_inline; /* the worker copies as it takes (CPU engine): chunked when shared */

	/* Written by the owning worker only. */
	struct inflight *fifo;
	uint32_t fifo_mask;
	uint32_t fifo_head, fifo_tail;
	uint32_t unsubmitted;  /* enqueued without the doorbell yet */
	uint32_t on_dev;       /* fifo entries the engine still has to complete */
	uint64_t progress_tsc; /* last completion, or when the fifo last filled from empty */
	uint64_t poll_tsc;     /* the worker's last look: a starved worker is not a dead engine */
	uint32_t rr;	       /* fair.c: where the next round of its channels starts */
	uint64_t ops, bytes, errors; /* bytes: what this engine copied, stripe parts included */

	/* Control side. */
	char name[DMAD_PROTO_NAME_MAX];
	char driver[DMAD_PROTO_NAME_MAX];
	uint32_t state; /* enum dmad_proto_dev_state */
	uint16_t nb_desc;
	uint32_t copybreak;
	unsigned worker;
	uint32_t nchans;
	struct removal *removal;      /* set while draining */
	uint32_t watchdog_default_ms; /* engine quirk; --watchdog-ms overrides */
	uint32_t watchdog_ms;	      /* see dmad_config.watchdog_ms */
	uint64_t wd_completed; /* the engine's completed count, as the watchdog last saw it */
	uint64_t wd_moved_tsc; /* when the watchdog last saw that count move */
	uint32_t end_state;    /* hotplug: REMOVED, FAILED or GONE once it is going; 0 before */
	char reason[DMAD_PROTO_REASON_MAX]; /* why it is going, for its record (retired.h) */
	int numa_node;			    /* the engine's, or -1 (place.h) */
	/* place.c: bytes copied as sampled every 100 ms, for the recent load. */
	uint64_t load_ms[10], load_bytes[10];
	unsigned load_pos;
	uint64_t hot_ms; /* hotplug_balance.c: above twice the mean load since; 0: not */
};

struct dev_array {
	uint32_t n;
	struct device *d[];
};

struct worker {
	unsigned idx;
	unsigned lcore;
	int epfd;		/* channel doorbells + wake_fd */
	int wake_fd;		/* control -> worker: look at your lists again */
	struct dev_array *devs; /* RCU-published by the control thread */
	bool stop;		/* control -> worker, __atomic */
	unsigned quiet;		/* worker-private: sleeps that ended with nothing to do */
	/* Worker-private: when to spin, yield or sleep (worker_idle.c). In TSC ticks. */
	uint64_t work_tsc;   /* the loop last found work */
	uint64_t spin_tsc;   /* after work, poll this long before sleeping */
	uint64_t probe_tsc;  /* next look at whether another task wants this CPU */
	uint64_t yield_tsc;  /* the cheapest sched_yield() seen: one with nobody to run */
	uint64_t cpu_tsc;    /* what the last look found holds until then */
	uint64_t gave_tsc;   /* last yielded or slept */
	uint64_t resume_tsc; /* a rate-limited channel may go again then; 0: none waits */
	uint8_t cpu;	     /* enum worker_cpu: what the last look found */
	bool slept;	     /* slept since work_tsc */
	/* Loops gone round, for the service watchdog (notify.c). Written every
	 * loop by this worker alone: its own cache line, so that the writes do
	 * not bounce the line other workers read their fields from. */
	uint64_t loops __rte_cache_aligned;
};

struct dmad_config {
	const char *socket_path;
	unsigned engines; /* dma_skeleton engines to start when no device is named */
	bool cpu_engine;  /* --engines cpu: channels go to dmad's CPU engine, not the library */
	unsigned workers;
	bool fault_injection;
	bool fdstore; /* --fdstore: SIGTERM under a manager hands over (handover_fdstore.h) */
	uint32_t watchdog_ms;	   /* a device with work and no completion this long is dead;
				      0: 100 ms for hardware, 1 s for software engines */
	uint32_t drain_timeout_ms; /* default bound on a planned removal's drain */
	uint32_t max_regions;	   /* per client, live registrations: HELLO announces these */
	uint32_t max_channels;
	uint64_t max_bytes_mapped;
	uint64_t limit[QUOTA_KINDS];	  /* in all, over every client (quota.h) */
	uint64_t user_limit[QUOTA_KINDS]; /* per uid */
	const char *admin_group;	  /* --admin-group: name, or a number as a gid */
	bool admin_gid_valid;		  /* false: no such group, and no gid is an admin's */
	gid_t admin_gid;
};

struct dmad {
	struct dmad_config cfg;
	struct rte_rcu_qsbr *qs;
	struct worker workers[MAX_WORKERS];
	unsigned nworkers;
	struct device *devs[MAX_DEVICES]; /* DMA engines, in the order they came */
	unsigned ndev;
	struct device *cpu;  /* the CPU engine channels fall back to */
	uint32_t copybreak;  /* smallest calibrated value over devices */
	uint64_t stripe_min; /* stripe.h: copies from this size may be striped; UINT64_MAX: none */
	struct client *clients;
	uint32_t next_client_id;
	/* dmactl restart: hand every session to a new dmad (handover.h). */
	bool restart;
	bool restart_store;  /* into the manager's fd store, not by exec */
	uint64_t restart_ns; /* CLOCK_MONOTONIC when it was asked */
	uint64_t generation; /* restarts with handover behind this dmad */
	/* Sessions survive a crash (handover_live.h): a ring's slots are
	 * released as they retire, and a fence waits for its channel to. */
	bool crash_safe;
	/* CLOCK_MONOTONIC as this dmad's start passed main(), EAL and the
	 * engines: where a restart's stall went (handover_restore()). */
	uint64_t main_ns, eal_ns, engines_ns;
};

extern struct dmad dmad;

/* Publish a pointer workers read: everything written before is visible first. */
#define rcu_publish(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define rcu_deref(p)	  __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

/* config_defaults() - dmad.cfg before options: $DMAD_SOCKET, admin group, quotas. */
void config_defaults(void);

/*
 * rcu.c. rcu_synchronize() waits until no worker can still hold a pointer
 * unpublished before the call; rcu_defer_free() frees @p once that is so,
 * without waiting (rcu_reclaim(), from the tick, does the freeing);
 * rcu_token() starts a grace period that rcu_passed() tells is over.
 * Control thread. rcu_init() after workers_init(), rcu_fini() after the
 * workers stopped.
 */
int rcu_init(void);
void rcu_synchronize(void);
void rcu_defer_free(void *p);
void rcu_reclaim(void);
uint64_t rcu_token(void);
bool rcu_passed(uint64_t token);
void rcu_fini(void);

#endif /* DMAD_DAEMON_H */
