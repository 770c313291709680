/* SPDX-License-Identifier: MIT */
/*
 * An idle worker sleeps instead of spinning. Before it does, it sets
 * NEED_WAKEUP in every ring it serves (io_uring's SQ_NEED_WAKEUP), so that
 * clients ring the doorbell eventfd only while it sleeps: the busy path
 * costs no system call on either side.
 */
#include <sys/epoll.h>
#include <unistd.h>

#include "engine.h"
#include "worker.h"

#define SLEEP_MS 100 /* upper bound, so a stop request is seen promptly */

static void set_need_wakeup(struct worker *w, bool on)
{
	struct dev_array *devs = rcu_deref(w->devs);

	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct chan_array *a = rcu_deref(devs->d[i]->chans);

		for (uint32_t j = 0; a && j < a->n; j++)
			dmad_ring_cons_need_wakeup(a->c[j]->ring, on);
	}
}

static bool any_pending(struct worker *w)
{
	struct dev_array *devs = rcu_deref(w->devs);

	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct chan_array *a = rcu_deref(devs->d[i]->chans);

		for (uint32_t j = 0; a && j < a->n; j++) {
			struct chan *ch = a->c[j];

			if (!ch->faulted && dmad_ring_cons_avail(ch->ring, ch->head))
				return true;
		}
	}
	return false;
}

/*
 * An engine that is a polling thread (d->parks, e.g. dma_skeleton: about
 * 15 % of a CPU while idle) is stopped while we sleep with nothing in
 * flight; execute() starts it again with the next descriptor. Others are
 * left alone: stopping a hardware engine can take milliseconds.
 */
static void park_engines(struct worker *w)
{
	struct dev_array *devs = rcu_deref(w->devs);

	for (uint32_t i = 0; devs && i < devs->n; i++) {
		struct device *d = devs->d[i];

		if (d->parks && !d->parked && !d->failed && !d->fault_hang &&
		    d->fifo_head == d->fifo_tail && d->engine->stop(d) == 0)
			d->parked = d->stopped = true;
	}
}

void worker_sleep(struct worker *w)
{
	struct epoll_event ev[8];

	set_need_wakeup(w, true);
	dmad_ring_cons_sleep_fence();
	if (!any_pending(w) && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		/* Only once a whole sleep passed without work: parking and the
		 * restart cost a millisecond or so, too much between bursts. */
		if (w->quiet)
			park_engines(w);
		/* Offline: a grace period need not wait for a sleeping worker. */
		rte_rcu_qsbr_thread_offline(dmad.qs, w->idx);
		/* Edge-triggered eventfds: nothing to read back, so no fd number
		 * is ever used after the control thread may have closed it. */
		w->quiet = epoll_wait(w->epfd, ev, 8, SLEEP_MS) == 0 ? w->quiet + 1 : 0;
		rte_rcu_qsbr_thread_online(dmad.qs, w->idx);
	}
	/* Channels may have come and gone while we slept: clear on the current set. */
	set_need_wakeup(w, false);
}

void worker_kick(struct worker *w)
{
	uint64_t one = 1;
	/* Only fails when the counter is saturated: a wake-up is pending anyway. */
	ssize_t r = write(w->wake_fd, &one, sizeof(one));

	(void)r;
}
