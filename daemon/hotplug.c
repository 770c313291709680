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
#include "client.h"
#include "device.h"
#include "engine.h"
#include "hotplug.h"
#include "log.h"
#include "worker.h"

struct removal {
	struct device *d;
	struct client *requester; /* NULL: nobody waits for the reply */
	uint32_t seq;
	uint64_t start_ns;
	uint64_t deadline_ns;
	bool timed_out;
	struct chan **chans; /* detached, waiting to be attached elsewhere */
	uint32_t nchans;
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
	log_error("device %s %s: taking it offline; its in-flight copies are redone by the CPU",
		  d->name, why);
	d->state = DMAD_PROTO_DEV_OFFLINE;
	__atomic_store_n(&d->failed, 1, __ATOMIC_RELEASE);
	worker_kick(&dmad.workers[d->worker]);
}

/*
 * @stalled_ns: how long the device's clients have already waited (a hang is
 * noticed only after the watchdog's bound), counted into their stall.
 */
static int start(struct device *d, uint32_t timeout_ms, struct client *requester, uint32_t seq,
		 uint64_t stalled_ns)
{
	struct removal *rm;

	if (d->removal)
		return -EBUSY;
	rm = calloc(1, sizeof(*rm));
	if (!rm)
		return -ENOMEM;
	rm->d = d;
	rm->requester = requester;
	rm->seq = seq;
	rm->start_ns = now_ns() - stalled_ns;
	rm->deadline_ns = now_ns() + (uint64_t)timeout_ms * 1000000u;
	/* From here no descriptor of any channel reaches the device. */
	rm->chans = chan_detach_all(d, &rm->nchans);
	if (!rm->chans && d->chans && d->chans->n) {
		free(rm);
		return -ENOMEM;
	}
	if (d->state == DMAD_PROTO_DEV_ONLINE)
		d->state = DMAD_PROTO_DEV_DRAINING;
	d->removal = rm;
	for (uint32_t i = 0; i < rm->nchans; i++)
		rm->chans[i]->moving = rm;
	rm->next = removals;
	removals = rm;
	log_info("removing device %s: %u channel(s) to move", d->name, rm->nchans);
	return 0;
}

int hotplug_remove(const char *name, uint32_t timeout_ms, struct client *requester, uint32_t seq)
{
	struct device *d = find(name);

	if (!d)
		return -ENODEV;
	return start(d, timeout_ms ? timeout_ms : dmad.cfg.drain_timeout_ms, requester, seq, 0);
}

/* Where a channel leaving @from goes: the least loaded other engine, else the CPU. */
static struct device *destination(void)
{
	struct device *d = device_pick(DMAD_PROTO_CAP_COPY);

	return d ? d : dmad.cpu;
}

static void move(struct removal *rm, struct chan *ch, uint64_t stall_us,
		 struct dmad_proto_moved *rec)
{
	struct dmad_proto_event ev = {.chan_id = ch->id, .stall_us = stall_us};
	struct device *to = destination();

	ch->moving = NULL;
	if (chan_attach(ch, to) < 0 && chan_attach(ch, dmad.cpu) < 0) {
		/* Out of memory twice over: leave it detached rather than guess. */
		log_error("cannot reattach channel %u of client %u", ch->id, ch->client->id);
		return;
	}
	ev.type = ch->dev == dmad.cpu ? DMAD_PROTO_EV_CHAN_CPU : DMAD_PROTO_EV_CHAN_MOVED;
	snprintf(ev.from, sizeof(ev.from), "%s", rm->d->name);
	snprintf(ev.to, sizeof(ev.to), "%s", ch->dev->name);
	client_event(ch->client, &ev);
	if (rec) {
		memcpy(rec->to, ev.to, sizeof(rec->to));
		rec->stall_us = stall_us;
		rec->client_id = ch->client->id;
		rec->chan_id = ch->id;
	}
	log_info("channel %u of client %u moved %s -> %s (stalled %lu us)", ch->id, ch->client->id,
		 ev.from, ev.to, (unsigned long)stall_us);
}

static void finish(struct removal *rm)
{
	struct dmad_proto_dev_remove_rep *rep;
	struct dmad_proto_moved *moved;
	uint64_t now = now_ns(), stall_us = (now - rm->start_ns) / 1000;
	size_t len = sizeof(*rep) + rm->nchans * sizeof(*moved);
	struct device *d = rm->d;
	uint32_t n = 0;

	/* The reply must fit one message; the log has every move regardless. */
	rep = calloc(1, len);
	moved = rep ? (struct dmad_proto_moved *)(rep + 1) : NULL;
	for (uint32_t i = 0; i < rm->nchans; i++) {
		if (!rm->chans[i])
			continue; /* put by its client meanwhile */
		move(rm, rm->chans[i], stall_us, moved ? &moved[n] : NULL);
		n++;
	}

	device_unpublish(d);
	for (unsigned i = 0; i < dmad.ndev; i++) {
		if (dmad.devs[i] == d) {
			memmove(&dmad.devs[i], &dmad.devs[i + 1],
				(dmad.ndev - i - 1) * sizeof(dmad.devs[0]));
			dmad.ndev--;
			break;
		}
	}
	log_info("device %s released after %lu us (%u channel(s) moved%s)", d->name,
		 (unsigned long)stall_us, n, rm->timed_out ? ", drain timed out" : "");
	device_release(d);

	if (rm->requester && rep) {
		uint32_t fit = (DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr) - sizeof(*rep)) /
			       sizeof(*moved);

		rep->drain_us = stall_us;
		rep->max_stall_us = n ? stall_us : 0;
		rep->nmoved = RTE_MIN(n, fit);
		rep->timed_out = rm->timed_out;
		client_send(rm->requester, DMAD_PROTO_DEV_REMOVE, rm->seq, 0, rep,
			    sizeof(*rep) + rep->nmoved * sizeof(*moved), NULL, 0);
	} else if (rm->requester) {
		client_send(rm->requester, DMAD_PROTO_DEV_REMOVE, rm->seq, -ENOMEM, NULL, 0, NULL,
			    0);
	}
	free(rep);
	free(rm->chans);
	free(rm);
}

void hotplug_surprise(const char *name)
{
	struct device *d = find(name);

	if (!d)
		return;
	fail(d, "was removed from the bus");
	if (!d->removal && start(d, dmad.cfg.drain_timeout_ms, NULL, 0, 0) < 0)
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

void hotplug_shutdown(void)
{
	/* Workers have stopped and drained every device: nothing is in flight. */
	while (removals) {
		struct removal *rm = removals;

		removals = rm->next;
		for (uint32_t i = 0; i < rm->nchans; i++)
			if (rm->chans[i])
				rm->chans[i]->moving = NULL;
		rm->d->removal = NULL;
		free(rm->chans);
		free(rm);
	}
}

void hotplug_forget_client(struct client *c)
{
	for (struct removal *rm = removals; rm; rm = rm->next)
		if (rm->requester == c)
			rm->requester = NULL;
}

void hotplug_forget_chan(struct chan *ch)
{
	struct removal *rm = ch->moving;

	if (!rm)
		return;
	for (uint32_t i = 0; i < rm->nchans; i++)
		if (rm->chans[i] == ch)
			rm->chans[i] = NULL;
	ch->moving = NULL;
}

int hotplug_fault(const char *name, uint32_t fault)
{
	struct device *d = find(name);

	if (!d)
		return -ENODEV;
	if (fault != DMAD_PROTO_FAULT_HANG)
		return -EINVAL;
	log_warning("fault injection: device %s stops completing", d->name);
	__atomic_store_n(&d->fault_hang, 1, __ATOMIC_RELEASE);
	return 0;
}
