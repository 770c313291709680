/* SPDX-License-Identifier: MIT */
/*
 * Rebalancing: an engine that has carried more than twice the mean load of
 * the ONLINE engines for HOT_MS gives one of its channels to the least
 * loaded engine, at most one move per MOVE_MS, by the move machinery of a
 * removal: the channel is unpublished (one grace period), drains where it
 * is, and only then is attached to its new engine, so its copies complete
 * in order. A channel with nothing queued drains at once. A channel whose
 * NUMA node has ONLINE engines only ever moves to another on that node
 * (place_least()): an engine near its client's memory, busy, beats one
 * idle across the interconnect.
 */
#include <string.h>
#include <stdio.h>

#include "chan.h"
#include "device.h"
#include "events.h"
#include "hotplug.h"
#include "log.h"
#include "place.h"

#define HOT_MS	   2000	       /* above twice the mean this long: hot */
#define MOVE_MS	   1000	       /* at most one move this often */
#define LOAD_FLOOR (16u << 20) /* below this many bytes per second nothing is hot */

static struct {
	struct chan *ch; /* unpublished, draining before its move; NULL: none */
	char from[DMAD_PROTO_NAME_MAX];
	uint64_t start_ms;
	uint64_t last_ms; /* the last look at the loads */
} mv;

/* Where @ch goes from @from: the least loaded other engine, on its node
 * when its node has engines; NULL: nowhere. */
static struct device *target(const struct chan *ch, const struct device *from)
{
	return place_least(dmad.devs, dmad.ndev, ch->node, from);
}

/* @ch has drained where it was: attach it to the least loaded engine now. */
static void arrive(uint64_t now_ms)
{
	struct chan *ch = mv.ch;
	struct device *from = NULL, *to;
	struct event ev;

	for (unsigned i = 0; i < dmad.ndev; i++)
		if (!strcmp(dmad.devs[i]->name, mv.from))
			from = dmad.devs[i];
	/* Its node's engines may all have gone meanwhile: then any. */
	to = target(ch, from);
	if (!to)
		to = place_pick(ch->caps, ch->node);
	ev = (struct event){.type = EVENT_CHAN_MOVED,
			    .ch = ch,
			    .from = mv.from,
			    .stall_us = (now_ms - mv.start_ms) * 1000};

	mv.ch = NULL;
	ch->rebalancing = false;
	/* Every engine went meanwhile: dmad's CPU engine, as for a removal. */
	if (!to)
		to = dmad.cpu;
	if (chan_attach(ch, to) < 0 && chan_attach(ch, dmad.cpu) < 0) {
		log_error("cannot reattach channel %u of client %u", ch->id, ch->owner_id);
		return;
	}
	ev.to = ch->dev->name;
	events_emit(&ev);
	log_about_printf(LOG_INFO, 0, &(struct log_about){.device = ev.to, .event = "rebalanced"},
			 "channel %u of client %u moved %s -> %s to even the load", ch->id,
			 ch->owner_id, mv.from, ev.to);
}

/* Each channel's bytes per second since the last look, @ms ago. */
static void measure(struct device *d, uint64_t ms)
{
	struct chan_array *a = d->chans;

	for (uint32_t i = 0; a && i < a->n; i++) {
		struct chan *ch = a->c[i];
		uint64_t bytes = __atomic_load_n(&ch->bytes, __ATOMIC_RELAXED);

		/* The first look at a channel has nothing to compare with. */
		ch->balance_rate =
			ch->balance_bytes && ms ? (bytes - ch->balance_bytes) * 1000 / ms : 0;
		ch->balance_bytes = bytes;
	}
}

/* Of @d's channels, the busiest whose move narrows the gap between @d and
 * the engine it would go to: it must carry less than the gap. */
static struct chan *choose(struct device *d)
{
	uint64_t load = place_load(d);
	struct chan_array *a = d->chans;
	struct chan *best = NULL;

	for (uint32_t i = 0; a && i < a->n; i++) {
		struct chan *ch = a->c[i];
		struct device *to = ch->dead || !ch->balance_rate ? NULL : target(ch, d);
		uint64_t to_load = to ? place_load(to) : UINT64_MAX;

		if (to && to_load < load && ch->balance_rate < load - to_load &&
		    (!best || ch->balance_rate > best->balance_rate))
			best = ch;
	}
	return best;
}

bool hotplug_balance_finish(uint64_t now_ms)
{
	if (!mv.ch)
		return false;
	/* Put meanwhile: its owner has it, nothing moves. */
	if (mv.ch->dead)
		mv.ch->rebalancing = false, mv.ch = NULL;
	else if (chan_drained(mv.ch))
		arrive(now_ms);
	return mv.ch != NULL;
}

void hotplug_balance_tick(uint64_t now_ms)
{
	uint64_t sum = 0, load[MAX_DEVICES];
	struct device *hot = NULL, *cold = NULL;
	unsigned n = 0;

	if (mv.ch) {
		hotplug_balance_finish(now_ms);
		return;
	}
	if (now_ms - mv.last_ms < MOVE_MS)
		return;
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];

		measure(d, now_ms - mv.last_ms);
		load[i] = place_load(d);
		if (d->state != DMAD_PROTO_DEV_ONLINE || d->failed)
			continue;
		sum += load[i];
		n++;
		if (!cold || load[i] < place_load(cold))
			cold = d;
	}
	mv.last_ms = now_ms;
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];
		bool over = n > 1 && d->state == DMAD_PROTO_DEV_ONLINE && !d->failed &&
			    load[i] > LOAD_FLOOR && load[i] * n > 2 * sum;

		if (!over) {
			d->hot_ms = 0;
			continue;
		}
		if (!d->hot_ms)
			d->hot_ms = now_ms;
		if (!hot && now_ms - d->hot_ms >= HOT_MS)
			hot = d;
	}
	if (hot && cold && cold != hot) {
		struct chan *ch = choose(hot);

		if (!ch)
			return;
		snprintf(mv.from, sizeof(mv.from), "%s", hot->name);
		mv.start_ms = now_ms;
		mv.ch = ch;
		ch->rebalancing = true;
		hot->hot_ms = 0;
		/* One grace period: no worker takes from it after this. */
		chan_detach(ch);
		if (chan_drained(ch))
			arrive(now_ms);
	}
}
