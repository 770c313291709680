/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "events.h"

#define MAX_SUBSCRIBERS 4

static struct {
	event_fn fn;
	void *arg;
} subs[MAX_SUBSCRIBERS];
static unsigned nsubs;

int events_subscribe(event_fn fn, void *arg)
{
	if (nsubs == MAX_SUBSCRIBERS)
		return -ENOSPC;
	subs[nsubs].fn = fn;
	subs[nsubs].arg = arg;
	nsubs++;
	return 0;
}

void events_emit(const struct event *ev)
{
	for (unsigned i = 0; i < nsubs; i++)
		subs[i].fn(ev, subs[i].arg);
}
