/* SPDX-License-Identifier: MIT */
/*
 * The worker's poll loop. Per device it owns: take validated descriptors
 * from each attached channel's ring, hand them to the engine in one burst,
 * reap completions in submission order and publish each channel's
 * `completed` word. One RCU quiescent state per loop, never per copy.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_dmadev.h>
#include <rte_cycles.h>

#include "engine.h"
#include "fair.h"
#include "stripe.h"
#include "worker.h"

/* Descriptors taken from a ring, and completions reaped, per pass. A
 * client's whole window (256) measured slower at 64 B on dma_skeleton: its
 * thread starts only at the doorbell, after the whole batch (DECISIONS.md). */
#define TAKE_MAX 32
#define REAP_MAX 32
/* A copy this small, on a software engine busy with other channels' work,
 * is done by the worker itself (light_inline()): some 2 us of memcpy, as
 * worker_chunk.c's chunks. */
#define LIGHT_MAX (16u << 10)

/* Single writer; dmactl's reader loads them while we run (plain mov on x86). */
#define STAT_ADD(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

/* This lcore woke a client in the current pass (worker_saw_work()). */
static __thread bool woke;

static void wake_waiter(struct chan *ch)
{
	if (dmad_ring_waiter_sleeps(ch->ring) &&
	    syscall(SYS_futex, &ch->ring->completed, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) > 0)
		woke = true;
}

static void retire(struct device *d, struct inflight *e)
{
	struct chan *ch = e->ch;

	if (unlikely(e->status)) {
		/* Geometry comes from the daemon's constants, not the shared header. */
		ch->err[ch->err_tail & (DMAD_PROTO_ERR_ENTRIES - 1)] =
			(struct dmad_proto_err){e->cookie, e->status};
		ch->err_tail++;
		/* The record is written before the client can see the new tail. */
		__atomic_store_n(&ch->ring->err_tail, ch->err_tail, __ATOMIC_RELEASE);
		STAT_ADD(ch->errors, 1);
		STAT_ADD(d->errors, 1);
	} else {
		STAT_ADD(ch->ops, 1);
		STAT_ADD(ch->bytes, e->len);
		STAT_ADD(d->ops, 1);
		/* A striped copy's bytes count where its parts ran. */
		if (likely(e->kind == INFLIGHT_OP))
			STAT_ADD(d->bytes, e->len);
	}
	dmad_ring_complete(ch->ring, e->cookie);
	ch->inflight_bytes -= e->len;
	__atomic_store_n(&ch->retired, ch->retired + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&ch->inflight, ch->inflight - 1, __ATOMIC_RELEASE);
	/* Crash-safe: a slot is the client's again only once retired, so that
	 * the next dmad can redo what an engine held (handover_live_resume()). */
	if (unlikely(dmad.crash_safe))
		dmad_ring_cons_release(ch->ring, (uint32_t)ch->retired);
}

/* Do with the CPU what an engine was asked to (the regions are still mapped:
 * they are unmapped only after every copy consumed before has retired). */
void worker_cpu_redo(const struct inflight *e)
{
	struct xfer x = {.op = e->op,
			 .len = e->len,
			 .src_va = e->src_va,
			 .dst_va = e->dst_va,
			 .pattern = e->pattern};

	engine_cpu_exec(&x);
}

static void retire_head(struct device *d)
{
	struct inflight *e = &d->fifo[d->fifo_head & d->fifo_mask];

	if (likely(e->kind == INFLIGHT_OP) || !stripe_retire(d, e))
		retire(d, e);
	/* The control thread reads head and tail to see a device drained. */
	__atomic_store_n(&d->fifo_head, d->fifo_head + 1, __ATOMIC_RELEASE);
	if (d->fifo_head == d->fifo_tail || d->fifo[d->fifo_head & d->fifo_mask].ch != e->ch)
		wake_waiter(e->ch);
}

/* Retire everything at the head of the fifo that is done, in order. */
static unsigned reap(struct device *d)
{
	bool ok[REAP_MAX];
	unsigned n = 0, k = 0, count = 0;

	if (d->on_dev)
		n = d->engine->reap(d, REAP_MAX, ok);
	while (d->fifo_head != d->fifo_tail) {
		struct inflight *e = &d->fifo[d->fifo_head & d->fifo_mask];

		if (e->on_dev) {
			if (k == n)
				break;
			/* The descriptor was valid: what the engine failed, the CPU redoes. */
			if (!ok[k++]) {
				worker_cpu_redo(e);
				STAT_ADD(d->errors, 1);
			}
			d->on_dev--;
		} else if (unlikely(e->kind == INFLIGHT_GATE) && e->parts) {
			/* Its parts run on: what this engine did behind it is done. */
			stripe_reap_ahead(d, ok + k, n - k);
			break;
		}
		retire_head(d);
		count++;
	}
	if (count)
		__atomic_store_n(&d->progress_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
	return count;
}

unsigned worker_retire_inline(struct device *d)
{
	/* Nothing on the engine: every entry in the fifo is already done. */
	return d->on_dev ? 0 : reap(d);
}

/*
 * The engine is gone or hung (the control thread set d->failed and took
 * every channel off it): stop it so a late completion cannot land, retire
 * what it did complete (engines complete in order, and say so after a
 * stop), and redo only the rest with the CPU, in order. Redoing a finished
 * copy would not be harmless: a later fenced op may have overwritten its
 * source since, and a false alarm of the watchdog must cost time, never
 * data.
 */
static unsigned recover(struct device *d)
{
	unsigned count = 0, n;

	if (d->on_dev) {
		d->engine->stop(d);
		d->stopped = true;
		while (d->on_dev && (n = reap(d)) > 0)
			count += n;
	}
	while (d->fifo_head != d->fifo_tail) {
		struct inflight *e = &d->fifo[d->fifo_head & d->fifo_mask];

		if (e->on_dev) {
			worker_cpu_redo(e);
			d->on_dev--;
		} else if (unlikely(e->kind == INFLIGHT_GATE) && e->parts) {
			/* Redo the rest now; the gate waits for parts elsewhere. */
			stripe_redo_ahead(d);
			break;
		}
		retire_head(d);
		count++;
	}
	d->unsubmitted = 0;
	return count;
}

/*
 * A software engine (a thread on the host's CPUs) completes in order: a
 * small copy queued behind another channel's megabytes waits for them, and
 * then for two hand-offs between threads that share the CPUs with the
 * clients (worker to engine thread and back). The worker's own memcpy costs
 * the same CPU and neither wait. Only for a lone copy (@lone: the ring
 * held it alone) of a channel with nothing in flight: a depth-1 client's,
 * which keeps its ring's order; a burst still goes to the engine. Only
 * while the engine holds others' work: an idle engine still takes it.
 */
static bool light_inline(const struct device *d, const struct chan *ch, const struct xfer *x,
			 bool lone)
{
	return lone && d->shares_cpu && d->on_dev && x->len <= LIGHT_MAX && !ch->inflight &&
	       !ch->stripes;
}

/* A copy done by light_inline(): complete it now, ahead of the fifo. */
static void complete_inline(struct device *d, struct chan *ch, uint32_t cookie, uint32_t len)
{
	STAT_ADD(ch->ops, 1);
	STAT_ADD(ch->bytes, len);
	STAT_ADD(d->ops, 1);
	STAT_ADD(d->bytes, len);
	dmad_ring_complete(ch->ring, cookie);
	/* Consumed before retired, as the control thread expects to read them. */
	__atomic_store_n(&ch->consumed, ch->consumed + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&ch->retired, ch->retired + 1, __ATOMIC_RELEASE);
	if (unlikely(dmad.crash_safe))
		dmad_ring_cons_release(ch->ring, (uint32_t)ch->retired);
	wake_waiter(ch);
}

/*
 * Start one validated transfer. Returns 1 if the engine has it, 0 if it was
 * done here, -EBUSY/-ENOSPC to retry later (nothing consumed), or another
 * negative errno for an error completion.
 */
int worker_execute(struct device *d, const struct xfer *x)
{
	if (x->op == DMAD_PROTO_OP_FILL && !(d->capa & RTE_DMA_CAPA_OPS_FILL)) {
		/* A fenced CPU fill waits for the engine to drain. */
		if ((x->flags & DMAD_PROTO_DF_FENCE) && d->on_dev)
			return -EBUSY;
		engine_cpu_fill(x->dst_va, x->pattern, x->len);
		return 0;
	}
	if (unlikely(d->parked)) {
		/* Idle engine thread: it comes back with the work. */
		if (d->engine->start(d) < 0)
			return -EIO;
		d->parked = d->stopped = false;
	}
	return d->engine->enqueue(d, x);
}

unsigned worker_poll_chan(struct device *d, struct chan *ch, bool stopping, struct worker_take *lim)
{
	const struct region_table *t;
	uint32_t avail, room, i, inl = 0; /* inl: done by light_inline() */
	uint64_t bytes = 0, inl_bytes = 0;
	bool lone;

	if (ch->faulted)
		return 0;
	avail = stopping ? ch->stop_tail - ch->head : dmad_ring_cons_avail(ch->ring, ch->head);
	if (!avail)
		return 0;
	if (avail > ch->sq_mask + 1) {
		/* A producer index no honest client can reach: stop reading this ring. */
		__atomic_store_n(&ch->faulted, 1, __ATOMIC_RELEASE);
		return 0;
	}
	lone = avail == 1;
	room = d->fifo_mask + 1 - (d->fifo_tail - d->fifo_head);
	/* The watchdog counts from the oldest outstanding descriptor. */
	if (d->fifo_tail == d->fifo_head)
		__atomic_store_n(&d->progress_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
	avail = RTE_MIN(RTE_MIN(avail, room), lim ? lim->descs : (uint32_t)TAKE_MAX);
	t = rcu_deref(*ch->regions);

	for (i = 0; i < avail; i++) {
		/* Copy out first: the client may rewrite the slot at any moment. */
		struct dmad_proto_desc desc = ch->sq[ch->head & ch->sq_mask];
		struct inflight *e;
		struct xfer x = {0}; /* a refused descriptor still gets a fifo entry */
		int ret;

		/* Crash-safe: a fence lands after the earlier copies have retired,
		 * so that a redo after a crash never reads a source it overwrote. */
		if (unlikely(dmad.crash_safe) && (desc.flags & DMAD_PROTO_DF_FENCE) &&
		    ch->inflight + i - inl)
			break;
		if (lim && (bytes >= lim->tokens || desc.len > lim->deficit)) {
			if (bytes < lim->tokens)
				lim->need = desc.len;
			break;
		}
		/* A fence waits until the channel's striped copies are done. */
		if (unlikely(ch->stripes) && (desc.flags & DMAD_PROTO_DF_FENCE))
			break;
		ret = validate_desc(&desc, t, &x);
		if (unlikely(lim && lim->done)) {
			/* Its first bytes were copied in chunks: the rest only. This
			 * is a second read of the slot: rewritten no longer than what
			 * is done, the rest would wrap to nearly 4 GiB; it is done
			 * whole, again. */
			if (!ret && x.len > lim->done)
				worker_chunk_rest(&x, lim->done);
			lim->done = 0;
		} else if (unlikely(x.len >= dmad.stripe_min) && !ret) {
			ret = stripe_copy(d, ch, &x, desc.cookie);
			if (ret > 0) {
				/* Its own part took the slot of a later descriptor. */
				avail -= (uint32_t)ret - 1;
				goto took;
			}
		}
		if (!ret && light_inline(d, ch, &x, lone)) {
			engine_cpu_exec(&x);
			complete_inline(d, ch, desc.cookie, desc.len);
			inl++;
			inl_bytes += desc.len;
			goto took;
		}
		if (!ret)
			ret = worker_execute(d, &x);
		if (ret == -ENOSPC || ret == -EBUSY)
			break;
		e = &d->fifo[d->fifo_tail & d->fifo_mask];
		*e = (struct inflight){.ch = ch,
				       .cookie = desc.cookie,
				       .len = desc.len,
				       .status = ret < 0 ? ret : 0,
				       .on_dev = ret == 1,
				       .op = x.op,
				       .src_va = x.src_va,
				       .dst_va = x.dst_va,
				       .pattern = x.pattern};
		d->on_dev += ret == 1;
		d->unsubmitted += ret == 1;
		__atomic_store_n(&d->fifo_tail, d->fifo_tail + 1, __ATOMIC_RELEASE);
	took:
		ch->head++;
		bytes += desc.len;
		if (lim)
			lim->deficit -= desc.len;
	}
	ch->inflight_bytes += bytes - inl_bytes;
	if (lim)
		lim->bytes = bytes;
	/* The control thread reads these to know when a channel has drained. */
	__atomic_store_n(&ch->inflight, ch->inflight + i - inl, __ATOMIC_RELEASE);
	__atomic_store_n(&ch->consumed, ch->consumed + i - inl, __ATOMIC_RELEASE);
	if (likely(!dmad.crash_safe))
		dmad_ring_cons_release(ch->ring, ch->head);
	return i;
}

/*
 * Shutdown completes what clients issued before it: remember each ring's
 * tail now; descriptors published later are left (the rings are then marked
 * dead and clients get -ENODEV for them). A restart takes nothing more from
 * the rings and only finishes what the engines hold: the next dmad resumes
 * each ring where this one stopped, so a long queue (a rate-limited
 * client's) does not stretch everyone's stall.
 */
static void snapshot_tails(struct dev_array *devs)
{
	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct chan_array *a = rcu_deref(devs->d[i]->chans);

		for (uint32_t j = 0; a && j < a->n; j++) {
			struct chan *ch = a->c[j];
			uint32_t tail = __atomic_load_n(&ch->ring->sq_tail, __ATOMIC_ACQUIRE);

			/* An impossible tail faults the ring, as in normal service. */
			ch->stop_tail =
				dmad.restart || tail - ch->head > ch->sq_mask + 1 ? ch->head : tail;
		}
	}
}

int worker_main(void *arg)
{
	struct worker *w = arg;
	bool stopped = false;

	rte_rcu_qsbr_thread_register(dmad.qs, w->idx);
	rte_rcu_qsbr_thread_online(dmad.qs, w->idx);

	for (;;) {
		struct dev_array *devs = rcu_deref(w->devs);
		unsigned work = 0, busy = 0;
		bool stop = __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE), shares_cpu = false;
		uint64_t now = rte_rdtsc();

		w->resume_tsc = 0;

		if (unlikely(stop && !stopped)) {
			snapshot_tails(devs);
			stopped = true;
		}

		for (uint32_t i = 0; devs && i < devs->n; i++) {
			struct device *d = devs->d[i];
			struct chan_array *a = rcu_deref(d->chans);

			/* Stopping with an engine hung: redo its work rather than strand it. */
			if (unlikely(__atomic_load_n(&d->failed, __ATOMIC_ACQUIRE) ||
				     (stop && d->fault_hang))) {
				work += recover(d);
				/* A striped copy's gate may wait there for parts elsewhere. */
				busy += d->fifo_head != d->fifo_tail;
				continue;
			}
			/* Shared, or limited: fair.c decides who goes. */
			if (likely(!stop) && a && a->n) {
				if (fair_needed(a))
					work += fair_serve(d, a, now, &w->resume_tsc);
				else
					work += worker_poll_lone(d, a->c[0]);
			}
			/* Stopping: serve what was issued before, finish what engines hold. */
			for (uint32_t j = 0; stop && a && j < a->n; j++) {
				work += worker_poll_chan(d, a->c[j], true, NULL);
				busy += !a->c[j]->faulted && a->c[j]->head != a->c[j]->stop_tail;
			}
			/* An injected hang: the engine never sees or finishes anything. */
			if (unlikely(d->fault_hang))
				continue;
			if (d->unsubmitted) {
				d->engine->doorbell(d);
				d->unsubmitted = 0;
			}
			work += reap(d);
			if (d->fifo_head != d->fifo_tail) {
				busy++;
				shares_cpu |= d->shares_cpu;
				__atomic_store_n(&d->poll_tsc, now, __ATOMIC_RELAXED);
			}
		}
		rte_rcu_qsbr_quiescent(dmad.qs, w->idx);
		/* Proof of life for the service watchdog; single writer. */
		__atomic_store_n(&w->loops, w->loops + 1, __ATOMIC_RELAXED);

		if (stop && !busy)
			break;
		/* Spin, yield or sleep: worker_idle.c. */
		if (work) {
			worker_saw_work(w, now, woke);
			woke = false;
		} else if (worker_idle(w, now, busy, shares_cpu)) {
			worker_sleep(w);
		}
	}

	rte_rcu_qsbr_thread_offline(dmad.qs, w->idx);
	rte_rcu_qsbr_thread_unregister(dmad.qs, w->idx);
	return 0;
}
