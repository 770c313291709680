/* SPDX-License-Identifier: MIT */
/*
 * Events flow up: the layers that move channels and devices (hotplug) say
 * what happened here, and the layers above (client sessions) subscribe and
 * tell whom it concerns, in their own protocol. Calls go down, events go up
 * (dbus-broker's layering), so hotplug knows nothing of clients or flows.
 * Control thread only; subscribers run synchronously, in subscription order.
 */
#ifndef DMAD_EVENTS_H
#define DMAD_EVENTS_H

#include <stdint.h>

struct chan;
struct client;
struct device;

enum event_type {
	EVENT_CHAN_MOVED,	/* @ch now on @to (dmad's CPU engine: "cpu"), was on @from */
	EVENT_DEVICE_ADDED,	/* @device is online; sent after the moves onto it */
	EVENT_DEVICE_FAILED,	/* @device taken offline, @why */
	EVENT_DEVICE_UNPLUGGED, /* @device left the bus; EVENT_DEVICE_FAILED follows */
	EVENT_DEVICE_REMOVED,	/* @device released, @count channels moved off it; still valid */
	EVENT_CLIENT_CONNECTED, /* @client said HELLO */
	EVENT_CLIENT_GONE,	/* @client's socket closed */
	EVENT_FLOW_DROPS,	/* @client's flow @flow_id dropped @count more datagrams */
};

struct event {
	enum event_type type;
	struct chan *ch;
	const char *from, *to; /* device names; "" for the library's own CPU copies */
	uint64_t stall_us;     /* how long the channel's submissions waited */
	const struct device *device;
	const struct client *client;
	const char *why;
	uint64_t count;
	uint32_t flow_id;
};

typedef void (*event_fn)(const struct event *ev, void *arg);

/* events_subscribe() - call @fn for every event from now on. 0 or -ENOSPC. */
int events_subscribe(event_fn fn, void *arg);

void events_emit(const struct event *ev);

#endif /* DMAD_EVENTS_H */
