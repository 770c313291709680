/* SPDX-License-Identifier: MIT */
/*
 * What happens in dmad, as MONITOR_EVENT records to every monitor that may
 * see it. Sends never wait (client_send_event() is MSG_DONTWAIT): an event
 * that does not fit a monitor's socket buffer is counted in monitor_lost,
 * and the next record that fits is preceded by a LOST record with that
 * count, so a monitor always knows it missed something and how much.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "client.h"
#include "device.h"
#include "events.h"
#include "monitor.h"
#include "rx.h"

/* Receive flows drop per datagram: report their drops summed over this long. */
#define FLOW_DROPS_PERIOD_NS 1000000000ull

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whom a record is about: as STATUS shows them, devices to everyone,
 * clients, their channels and flows to admins and to themselves. */
struct audience {
	const struct client *about; /* NULL: no client's own business */
	bool admin_only;	    /* a receive flow's channel, which no client owns */
};

static bool may_see(const struct client *m, const struct audience *a)
{
	return m->admin || (!a->admin_only && (!a->about || m == a->about));
}

/* Report what was lost first; 0 when there is room for @ev after that. */
static int send_lost(struct client *m)
{
	struct dmad_proto_monitor_event lost = {
		.time_ns = now_ns(CLOCK_REALTIME),
		.type = DMAD_PROTO_MON_LOST,
		.count = m->monitor_lost,
	};
	int ret;

	if (!m->monitor_lost)
		return 0;
	ret = client_send_event(m, DMAD_PROTO_MONITOR_EVENT, &lost, sizeof(lost));
	if (ret == 0)
		m->monitor_lost = 0;
	return ret;
}

static void send_to(struct client *m, const struct dmad_proto_monitor_event *ev)
{
	if (send_lost(m) < 0 || client_send_event(m, DMAD_PROTO_MONITOR_EVENT, ev, sizeof(*ev)) < 0)
		m->monitor_lost++;
}

static void fill_client(struct dmad_proto_monitor_event *me, const struct client *c)
{
	me->client_id = c->id;
	me->pid = c->cred.pid;
	me->uid = c->cred.uid;
	snprintf(me->name, sizeof(me->name), "%s", c->name);
}

/* The protocol record of @ev, and whom it is about (NULL: no one's own). */
static bool translate(const struct event *ev, struct dmad_proto_monitor_event *me,
		      struct audience *ret)
{
	*me = (struct dmad_proto_monitor_event){.time_ns = now_ns(CLOCK_REALTIME)};
	*ret = (struct audience){0};
	if (ev->device)
		snprintf(me->device, sizeof(me->device), "%s", ev->device->name);
	switch (ev->type) {
	case EVENT_DEVICE_ADDED:
		me->type = DMAD_PROTO_MON_DEV_ADDED;
		break;
	case EVENT_DEVICE_REMOVED:
		me->type = DMAD_PROTO_MON_DEV_REMOVED;
		me->count = ev->count;
		break;
	case EVENT_DEVICE_FAILED:
		me->type = DMAD_PROTO_MON_DEV_FAILED;
		snprintf(me->detail, sizeof(me->detail), "%s", ev->why ? ev->why : "");
		break;
	case EVENT_DEVICE_UNPLUGGED:
		me->type = DMAD_PROTO_MON_DEV_UNPLUGGED;
		break;
	case EVENT_CHAN_MOVED:
		me->type = DMAD_PROTO_MON_CHAN_MOVED;
		me->client_id = ev->ch->owner_id;
		me->chan_id = ev->ch->id;
		me->count = ev->stall_us;
		snprintf(me->device, sizeof(me->device), "%s", ev->from ? ev->from : "");
		snprintf(me->to, sizeof(me->to), "%s", ev->to ? ev->to : "");
		if (ev->ch->client)
			fill_client(me, ev->ch->client);
		ret->about = ev->ch->client;
		ret->admin_only = !ev->ch->client;
		break;
	case EVENT_CLIENT_CONNECTED:
	case EVENT_CLIENT_GONE:
		me->type = ev->type == EVENT_CLIENT_CONNECTED ? DMAD_PROTO_MON_CLIENT_CONNECTED
							      : DMAD_PROTO_MON_CLIENT_GONE;
		fill_client(me, ev->client);
		ret->about = ev->client;
		break;
	case EVENT_FLOW_DROPS:
		me->type = DMAD_PROTO_MON_FLOW_DROPS;
		me->chan_id = ev->flow_id;
		me->count = ev->count;
		fill_client(me, ev->client);
		ret->about = ev->client;
		break;
	default:
		return false;
	}
	return true;
}

static void on_event(const struct event *ev, void *arg)
{
	struct dmad_proto_monitor_event me;
	struct audience a;

	(void)arg;
	if (!translate(ev, &me, &a))
		return;
	for (struct client *m = dmad.clients; m; m = m->next)
		if (m->monitor && !m->closing && may_see(m, &a))
			send_to(m, &me);
}

int monitor_init(void)
{
	return events_subscribe(on_event, NULL);
}

int monitor_start(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)rq, (void)rep;
	if (c->monitor)
		return -EALREADY;
	c->monitor = true;
	return 0;
}

void monitor_tick(void)
{
	static uint64_t last_drops_ns;
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	for (struct client *m = dmad.clients; m; m = m->next)
		if (m->monitor && !m->closing)
			send_lost(m);
	/* With or without monitors, so that a new one hears of new drops only. */
	if (now - last_drops_ns >= FLOW_DROPS_PERIOD_NS) {
		last_drops_ns = now;
		rx_drops_report();
	}
}
