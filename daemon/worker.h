/* SPDX-License-Identifier: MIT */
/* Worker lcores: poll client rings, feed engines, publish completions. */
#ifndef DMAD_WORKER_H
#define DMAD_WORKER_H

#include "daemon.h"

struct xfer;

/* worker_main() - the lcore loop; @arg is the struct worker. */
int worker_main(void *arg);

/*
 * How much one visit may take from a channel (fair.c): descriptors while
 * the next one fits in @deficit bytes, at most @descs of them, and while
 * fewer than @tokens bytes have gone. Updated as the visit takes; @need is
 * the length of the descriptor that did not fit the deficit, else 0.
 */
struct worker_take {
	int64_t deficit;
	uint32_t descs;
	uint64_t tokens;
	uint64_t bytes; /* out: taken */
	uint32_t need;	/* out */
	uint32_t done;	/* in: bytes of the head already copied (worker_chunk_head()) */
};

/*
 * worker_poll_chan() - take what @ch has queued, within @lim (NULL: at most
 * a burst, as room allows), onto @d. Returns the descriptors taken. The
 * owning worker only.
 */
unsigned worker_poll_chan(struct device *d, struct chan *ch, bool stopping,
			  struct worker_take *lim);

/*
 * worker_execute() - start the validated transfer @x on @d: 1 if the engine
 * has it, 0 if it was done here, -EBUSY/-ENOSPC to retry later, or another
 * negative errno to fail it. worker_cpu_redo() does with the CPU what an
 * engine was asked to. The owning worker of @d only (stripe.c uses both).
 */
int worker_execute(struct device *d, const struct xfer *x);
void worker_cpu_redo(const struct inflight *e);

/*
 * worker_retire_inline() - when @d holds nothing on its engine (the CPU
 * engine, which copies as it takes), complete what the fifo holds now, so
 * that a channel's copy is published before the next channel's turn. The
 * owning worker only. Returns how many completed.
 */
unsigned worker_retire_inline(struct device *d);

/*
 * worker_chunk_head() - make the next piece of @ch's head on @d when the
 * worker makes that op itself in pieces: on an engine whose worker copies
 * inline, any op in chunks of CHUNK while the engine is @shared with other
 * channels; a fill the worker makes itself (no fill on the engine) in
 * pieces of FILL_PIECE even alone. The piece is charged to @lim's deficit;
 * the head stays in the ring, so order and region lifetime are as for any
 * queued copy. Returns 1 after a piece. Returns 0 when the head is not made
 * in pieces or has at most one left; then @lim->done says how much of it is
 * done for worker_poll_chan(), and @lim->deficit is credited with it: a
 * take that does not reach the head leaves @lim->done as it was, and the
 * caller takes the credit back. Returns -ENOBUFS, making nothing, when the
 * deficit does not cover a piece (@lim->need says how much would). The
 * owning worker only.
 */
int worker_chunk_head(struct device *d, struct chan *ch, struct worker_take *lim, bool shared);

/*
 * worker_poll_lone() - worker_poll_chan() for a channel alone on @d and
 * without limits: a fill the worker makes itself goes a piece per call, so
 * that the worker's other devices are served in between. Returns as
 * worker_poll_chan() does, 1 after a piece. The owning worker only.
 */
unsigned worker_poll_lone(struct device *d, struct chan *ch);

/* worker_chunk_rest() - @x less its first @done bytes. */
void worker_chunk_rest(struct xfer *x, uint32_t done);

/* worker_kick() - make a sleeping worker look at its lists again. Any thread. */
void worker_kick(struct worker *w);

/*
 * worker_idle.c: what the loop does between passes. worker_idle_init()
 * before the first pass. worker_saw_work() after a pass that took or retired
 * something (@woke: it woke a client sleeping in dmac_wait()). Otherwise
 * worker_idle() waits a moment, pausing or yielding the CPU; @inflight: the
 * engines still hold copies, @shares_cpu: one of those engines is a host
 * thread. It returns true when the worker should rather sleep:
 * worker_sleep() backs off until a doorbell rings or @w is kicked.
 */
void worker_idle_init(struct worker *w);
void worker_saw_work(struct worker *w, uint64_t now, bool woke);
bool worker_idle(struct worker *w, uint64_t now, bool inflight, bool shares_cpu);
void worker_sleep(struct worker *w);

/*
 * workers.c: workers_init() sets up RCU and dmad.cfg.workers workers on the
 * EAL worker lcores, before devices are published to them; workers_launch()
 * starts their loops; workers_stop() lets them finish what the engines hold,
 * waits for them and frees their state. Control thread. The first two return
 * 0 or a negative errno.
 */
int workers_init(void);
int workers_launch(void);
void workers_stop(void);

#endif /* DMAD_WORKER_H */
