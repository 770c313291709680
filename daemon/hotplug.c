/* SPDX-License-Identifier: MIT */
/*
 * Removal is a drain: the device goes DRAINING and loses its channels in one
 * grace period (so no new descriptor reaches it), the copies it holds
 * complete, each channel is attached to another device and carries on from
 * where its ring was, and the device is released. Completion order per
 * channel holds because a channel is never on two devices at once: it is
 * attached to the next only after the last one retired everything it took.
 *
 * A device that stops completing (hang, surprise unplug, a drain past its
 * timeout) is failed: its worker stops it and redoes what it held with the
 * CPU, in order, and the drain finishes the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>

#include "chan.h"
#include "device.h"
#include "engine.h"
#include "events.h"
#include "hotplug.h"
#include "log.h"
#include "retired.h"
#include "place.h"
#include "worker.h"

struct removal {
	struct device *d;
	hotplug_done_fn done; /* NULL: nobody waits for the outcome */
	void *token;
	uint64_t start_ns;
	uint64_t deadline_ns;
	bool timed_out;
	uint32_t nchans; /* detached: their ->moving is this removal */
	struct removal *next;
};

static struct removal *removals;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Without overflow for any --watchdog-ms (a product with 1e9 wraps in seconds). */
static uint64_t tsc_to_ns(uint64_t ticks)
{
	uint64_t hz = rte_get_tsc_hz();

	return ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz;
}

static struct device *find(const char *name)
{
	for (unsigned i = 0; i < dmad.ndev; i++)
		if (!strncmp(dmad.devs[i]->name, name, DMAD_PROTO_NAME_MAX))
			return dmad.devs[i];
	return NULL;
}

static bool fifo_empty(struct device *d)
{
	return __atomic_load_n(&d->fifo_head, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&d->fifo_tail, __ATOMIC_ACQUIRE);
}

/* Engine gone or hung: its worker redoes what it held with the CPU. */
static void fail(struct device *d, const char *why)
{
	if (d->failed)
		return;
	/* Its record says why; an unplugged device is GONE, whatever came after. */
	if (d->end_state != DMAD_PROTO_DEV_GONE) {
		snprintf(d->reason, sizeof(d->reason), "%s%s%s",
			 d->end_state == DMAD_PROTO_DEV_REMOVED ? "removal asked for; then it "
								: "",
			 why, d->fault_hang ? " (fault injected)" : "");
		d->end_state = DMAD_PROTO_DEV_FAILED;
	}
	log_about_printf(
		LOG_ERR, 0, &(struct log_about){.device = d->name, .event = "device-failed"},
		"device %s %s: taking it offline; what it did not complete is redone by the CPU",
		d->name, why);
	d->state = DMAD_PROTO_DEV_OFFLINE;
	__atomic_store_n(&d->failed, 1, __ATOMIC_RELEASE);
	worker_kick(&dmad.workers[d->worker]);
	events_emit(&(struct event){.type = EVENT_DEVICE_FAILED, .device = d, .why = why});
}

/*
 * @stalled_ns: how long the device's clients have already waited (a hang is
 * noticed only after the watchdog's bound), counted into their stall.
 */
static int start(struct device *d, uint32_t timeout_ms, hotplug_done_fn done, void *token,
		 uint64_t stalled_ns)
{
	struct removal *rm;
	struct chan **list;

	if (d->removal)
		return -EBUSY;
	rm = calloc(1, sizeof(*rm));
	if (!rm)
		return -ENOMEM;
	rm->d = d;
	rm->done = done;
	rm->token = token;
	rm->start_ns = now_ns() - stalled_ns;
	rm->deadline_ns = now_ns() + (uint64_t)timeout_ms * 1000000u;
	/* No new stripe part either, once the grace period below has passed. */
	__atomic_store_n(&d->stripe_off, 1, __ATOMIC_RELEASE);
	/* From here no descriptor of any channel reaches the device. */
	list = chan_detach_all(d, &rm->nchans);
	if (!rm->nchans)
		rcu_synchronize();
	if (!list && d->chans && d->chans->n) {
		__atomic_store_n(&d->stripe_off, 0, __ATOMIC_RELEASE);
		free(rm);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rm->nchans; i++)
		list[i]->moving = rm;
	free(list);
	if (d->state == DMAD_PROTO_DEV_ONLINE)
		d->state = DMAD_PROTO_DEV_DRAINING;
	if (!d->end_state) {
		d->end_state = DMAD_PROTO_DEV_REMOVED;
		snprintf(d->reason, sizeof(d->reason), "removed on request");
	}
	d->removal = rm;
	rm->next = removals;
	removals = rm;
	log_about_printf(LOG_INFO, 0,
			 &(struct log_about){.device = d->name, .event = "device-draining"},
			 "removing device %s: %u channel(s) to move", d->name, rm->nchans);
	return 0;
}

int hotplug_remove(const char *name, uint32_t timeout_ms, hotplug_done_fn done, void *token)
{
	struct device *d = find(name);

	if (!d)
		return -ENODEV;
	return start(d, timeout_ms ? timeout_ms : dmad.cfg.drain_timeout_ms, done, token, 0);
}

/* Where a channel leaving @from goes: the least loaded other engine, else the CPU. */
static struct device *destination(void)
{
	struct device *d = place_pick(DMAD_PROTO_CAP_COPY, PLACE_NODE_ANY);

	return d ? d : dmad.cpu;
}

static void move(struct removal *rm, struct chan *ch, uint64_t stall_us, struct hotplug_move *rec)
{
	struct event ev = {.type = EVENT_CHAN_MOVED, .ch = ch, .stall_us = stall_us};
	struct device *to = destination();

	ch->moving = NULL;
	if (chan_attach(ch, to) < 0 && chan_attach(ch, dmad.cpu) < 0) {
		/* Out of memory twice over: leave it detached rather than guess. */
		log_error("cannot reattach channel %u of client %u", ch->id, ch->owner_id);
		return;
	}
	ev.from = rm->d->name;
	ev.to = ch->dev->name;
	events_emit(&ev);
	if (rec)
		*rec = (struct hotplug_move){ch->owner_id, ch->id, ch->dev->name, stall_us};
	log_about_printf(LOG_INFO, 0,
			 &(struct log_about){.device = ev.to, .event = "channel-moved"},
			 "channel %u of client %u moved %s -> %s (stalled %lu us)", ch->id,
			 ch->owner_id, ev.from, ev.to, (unsigned long)stall_us);
}

static void finish(struct removal *rm)
{
	uint64_t stall_us = (now_ns() - rm->start_ns) / 1000;
	struct hotplug_removed r = {.drain_us = stall_us, .timed_out = rm->timed_out};
	struct hotplug_move *moved = calloc(rm->nchans + 1, sizeof(*moved));
	struct device *d = rm->d;
	struct chan *ch, *next;

	/* Those its owners killed meanwhile are no longer moving. */
	for (ch = chan_next(NULL); ch; ch = next) {
		next = chan_next(ch);
		if (ch->moving == rm)
			move(rm, ch, stall_us, moved ? &moved[r.nmoved++] : NULL);
	}
	r.moved = moved;
	r.max_stall_us = r.nmoved ? stall_us : 0;
	snprintf(r.name, sizeof(r.name), "%s", d->name);

	device_unpublish(d);
	for (unsigned i = 0; i < dmad.ndev; i++) {
		if (dmad.devs[i] == d) {
			memmove(&dmad.devs[i], &dmad.devs[i + 1],
				(dmad.ndev - i - 1) * sizeof(dmad.devs[0]));
			dmad.ndev--;
			break;
		}
	}
	log_about_printf(
		LOG_INFO, 0, &(struct log_about){.device = d->name, .event = "device-removed"},
		"device %s released after %lu us (%u channel(s) moved%s)", d->name,
		(unsigned long)stall_us, r.nmoved, rm->timed_out ? ", drain timed out" : "");
	/* Its counters and why it went stay in the status (retired.h). */
	retired_device(d);
	events_emit(&(struct event){.type = EVENT_DEVICE_REMOVED, .device = d, .count = r.nmoved});
	if (rm->done)
		rm->done(moved ? 0 : -ENOMEM, moved ? &r : NULL, rm->token);
	/* After the outcome: the moves name devices by pointer until then. */
	device_release(d);
	free(moved);
	free(rm);
}

void hotplug_surprise(const char *name)
{
	struct device *d = find(name);

	if (!d)
		return;
	d->end_state = DMAD_PROTO_DEV_GONE;
	snprintf(d->reason, sizeof(d->reason), "removed from the bus without warning");
	events_emit(&(struct event){.type = EVENT_DEVICE_UNPLUGGED, .device = d});
	fail(d, "was removed from the bus");
	if (!d->removal && start(d, dmad.cfg.drain_timeout_ms, NULL, NULL, 0) < 0)
		log_error("cannot start removing %s: out of memory", d->name);
}

/*
 * Has the engine itself completed something since we last asked? Then it is
 * alive, whether or not its worker has reaped it yet (a worker that was
 * descheduled, or one that stopped reaping under an injected hang).
 */
static bool engine_moved(struct device *d, uint64_t now)
{
	uint64_t n;

	if (!d->engine->completed_count || d->engine->completed_count(d, &n) < 0 ||
	    n == d->wd_completed)
		return false;
	d->wd_completed = n;
	d->wd_moved_tsc = now;
	return true;
}

static void watchdog(void)
{
	uint64_t now = rte_rdtsc();

	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];
		uint64_t limit = rte_get_tsc_hz() / 1000 * d->watchdog_ms;
		uint64_t progress = __atomic_load_n(&d->progress_tsc, __ATOMIC_RELAXED);
		uint64_t polled = __atomic_load_n(&d->poll_tsc, __ATOMIC_RELAXED);

		if ((int64_t)(d->wd_moved_tsc - progress) > 0)
			progress = d->wd_moved_tsc;
		/* Dead only if its worker kept looking past the bound and saw nothing,
		 * or it holds work under an injected hang (its worker no longer reaps),
		 * and the engine's own count of completions stood still meanwhile. */
		if (d->failed || fifo_empty(d) || now - progress < limit ||
		    ((int64_t)(polled - progress) < (int64_t)limit && !d->fault_hang) ||
		    engine_moved(d, now))
			continue;
		log_notice("%s: %u in flight here, engine's completed count %lu; last completion "
			   "%lu ms ago",
			   d->name, __atomic_load_n(&d->on_dev, __ATOMIC_RELAXED),
			   (unsigned long)d->wd_completed,
			   (unsigned long)((now - progress) / (rte_get_tsc_hz() / 1000)));
		fail(d, "stopped completing");
		if (!d->removal &&
		    start(d, dmad.cfg.drain_timeout_ms, NULL, 0, tsc_to_ns(now - progress)) < 0)
			log_error("cannot start removing %s: out of memory", d->name);
	}
}

bool hotplug_tick(void)
{
	struct removal **pp = &removals;
	uint64_t now = now_ns();

	watchdog();
	while (*pp) {
		struct removal *rm = *pp;

		if (!rm->d->failed && now > rm->deadline_ns) {
			rm->timed_out = true;
			fail(rm->d, "did not drain in time");
		}
		if (!fifo_empty(rm->d)) {
			pp = &rm->next;
			continue;
		}
		*pp = rm->next;
		/* The worker may still be in the loop that retired the last copy. */
		rcu_synchronize();
		finish(rm);
	}
	return removals != NULL;
}

void hotplug_settle(void)
{
	/* The channels a drain took off wait in it: the copies issued on them
	 * must still be done, and done after what their device held. */
	for (struct removal *rm = removals; rm; rm = rm->next)
		fail(rm->d, "was still draining when dmad stopped");
	/* An injected hang never ends: the watchdog would fail it only after
	 * its bound, and a rebalance's move off it waits until then. Failed
	 * now, as the watchdog would, its channels move off it too. */
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];

		if (!d->fault_hang || d->failed || fifo_empty(d))
			continue;
		fail(d, "was hung when dmad stopped");
		if (!d->removal && start(d, dmad.cfg.drain_timeout_ms, NULL, NULL, 0) < 0)
			log_error("cannot start removing %s: out of memory", d->name);
	}
	while (hotplug_tick() | hotplug_balance_finish(now_ns() / 1000000u))
		usleep(1000);
}

void hotplug_shutdown(void)
{
	/* Workers have stopped and drained every device: nothing is in flight. */
	while (removals) {
		struct removal *rm = removals;

		removals = rm->next;
		for (struct chan *ch = chan_next(NULL); ch; ch = chan_next(ch))
			if (ch->moving == rm)
				ch->moving = NULL;
		rm->d->removal = NULL;
		if (rm->done)
			rm->done(-ECANCELED, NULL, rm->token);
		free(rm);
	}
}

int hotplug_fault(const char *name, uint32_t fault)
{
	struct device *d = find(name);

	if (!d)
		return -ENODEV;
	if (fault != DMAD_PROTO_FAULT_HANG)
		return -EINVAL;
	log_about_printf(LOG_WARNING, 0,
			 &(struct log_about){.device = d->name, .event = "fault-injected"},
			 "fault injection: device %s stops completing", d->name);
	__atomic_store_n(&d->fault_hang, 1, __ATOMIC_RELEASE);
	return 0;
}
