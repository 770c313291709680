/* SPDX-License-Identifier: MIT */
/*
 * A client's life: admitted at connect, told what happens to its channels,
 * closed when its socket goes, freed once everything it had has drained.
 * Its requests are client_requests.c's, its messages client_wire.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "chan.h"
#include "client.h"
#include "events.h"
#include "handover_live.h"
#include "log.h"
#include "region.h"
#include "region_table.h"
#include "retired.h"
#include "rx.h"
#include "share.h"

uint64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Credentials and the admin tier come from the kernel, whoever asks. */
static struct client *client_make(int fd, uint32_t id)
{
	socklen_t len = sizeof(struct ucred);
	struct client *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->id = id;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		free(c);
		return NULL;
	}
	len = sizeof(c->sndbuf);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf, &len) < 0)
		c->sndbuf = DMAD_PROTO_MSG_MAX * 2;
	c->admin = admin_peer(fd, &c->cred);
	c->acct = quota_acct_new(c->cred.uid);
	if (!c->acct) {
		free(c);
		return NULL;
	}
	/* Over the limit, it is still answered: -EDQUOT, not a closed socket
	 * that its library would take for a daemon gone (-ENODEV). */
	switch (quota_admit(c->acct, c->admin)) {
	case 1:
		log_info("client %u (pid %d, uid %u): admitted on the admin reserve, for control "
			 "requests",
			 c->id, (int)c->cred.pid, (unsigned)c->cred.uid);
		break;
	case -EDQUOT:
		c->refused = true;
		c->refused_ms = client_now_ms();
		break;
	}
	snprintf(c->name, sizeof(c->name), "pid%d", (int)c->cred.pid);
	share_client_init(c);
	c->next = dmad.clients;
	dmad.clients = c;
	handover_live_add(fd, false);
	return c;
}

struct client *client_new(int fd)
{
	struct client *c = client_make(fd, ++dmad.next_client_id);

	/* In the journal before its first request is read: after a crash
	 * the next dmad keeps the connection and says RESTARTED, and its
	 * HELLO, lost or not, comes again (client_replay.c). */
	if (c && !c->refused) {
		handover_live_dirty();
		handover_live_sync();
	}
	return c;
}

struct client *client_adopt(int fd, uint32_t id)
{
	struct client *c = client_make(fd, id);

	if (c && id > dmad.next_client_id)
		dmad.next_client_id = id;
	return c;
}

/* What happened below, in the protocol: to the channel's client, or to all. */
static void on_event(const struct event *ev, void *arg)
{
	struct dmad_proto_event pe = {.stall_us = ev->stall_us};

	(void)arg;
	snprintf(pe.from, sizeof(pe.from), "%s", ev->from ? ev->from : "");
	snprintf(pe.to, sizeof(pe.to), "%s", ev->to ? ev->to : "");
	switch (ev->type) {
	case EVENT_CHAN_MOVED:
		/* Receive flows' channels have no client: their flows just go on. */
		if (!ev->ch->client)
			return;
		pe.type =
			ev->ch->dev == dmad.cpu ? DMAD_PROTO_EV_CHAN_CPU : DMAD_PROTO_EV_CHAN_MOVED;
		pe.chan_id = ev->ch->id;
		client_event(ev->ch->client, &pe);
		break;
	case EVENT_DEVICE_ADDED:
		pe.type = DMAD_PROTO_EV_DEV_ADDED;
		for (struct client *c = dmad.clients; c; c = c->next)
			client_event(c, &pe);
		break;
	default: /* for monitors only (monitor.c) */
		break;
	}
}

int client_init(void)
{
	return events_subscribe(on_event, NULL);
}

struct chan *client_find_chan(struct chan *list, uint32_t id)
{
	for (; list; list = list->next)
		if (list->id == id)
			return list;
	return NULL;
}

void client_chan_retire(struct client *c, struct chan *ch)
{
	struct chan **pp = &c->chans;

	while (*pp != ch)
		pp = &(*pp)->next;
	*pp = ch->next;
	c->nchans--;
	chan_kill(ch);
	ch->next = c->dead_chans;
	c->dead_chans = ch;
}

static void add_chans(struct client_sum *s, const struct chan *ch)
{
	for (; ch; ch = ch->next) {
		s->ops += __atomic_load_n(&ch->ops, __ATOMIC_RELAXED);
		s->bytes += __atomic_load_n(&ch->bytes, __ATOMIC_RELAXED);
		s->errors += __atomic_load_n(&ch->errors, __ATOMIC_RELAXED);
	}
}

struct client_sum client_totals(const struct client *c)
{
	struct client_sum s = {c->put_ops, c->put_bytes, c->put_errors};

	add_chans(&s, c->chans);
	add_chans(&s, c->dead_chans);
	return s;
}

void client_close(struct client *c)
{
	struct timespec ts;

	if (c->closing)
		return;
	c->closing = true;
	handover_live_dirty();
	clock_gettime(CLOCK_REALTIME, &ts);
	c->gone_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (c->hello)
		events_emit(&(struct event){.type = EVENT_CLIENT_GONE, .client = c});
	rx_client_close(c);
	while (c->chans)
		client_chan_retire(c, c->chans);
	for (uint32_t id = 0; c->regions && id < c->regions->n; id++) {
		struct region *r = region_table_get(c, id);

		if (r)
			region_retire(c, r);
	}
	log_debug("client %u (pid %d) disconnected", c->id, (int)c->cred.pid);
}

/*
 * Free what has drained. Returns true when @c itself is gone. Control
 * thread, from the periodic tick.
 */
bool client_reap(struct client *c)
{
	struct chan **pp = &c->dead_chans;
	bool regions_gone = region_table_reap(c);

	while (*pp) {
		struct chan *ch = *pp;

		if (chan_gone(ch)) {
			/* No worker holds it and it drained: its counters are final. */
			*pp = ch->next;
			c->put_ops += __atomic_load_n(&ch->ops, __ATOMIC_RELAXED);
			c->put_bytes += __atomic_load_n(&ch->bytes, __ATOMIC_RELAXED);
			c->put_errors += __atomic_load_n(&ch->errors, __ATOMIC_RELAXED);
			chan_destroy(ch);
		} else {
			pp = &ch->next;
		}
	}
	/* Its flows go first: they may still be landing copies in their areas. */
	return rx_reap(c) && c->closing && !c->chans && !c->dead_chans && regions_gone;
}

void client_free(struct client *c)
{
	struct client **pp = &dmad.clients;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	/* Its totals outlive it, for the operator (retired.h); not those of
	 * one that never took a channel, as dmactl: they would crowd them out. */
	if (c->hello && !c->refused && c->next_chan_id) {
		struct client_sum t = client_totals(c);
		struct dmad_proto_gone_client rec = {
			.when_us = c->gone_us,
			.ops = t.ops,
			.bytes = t.bytes,
			.errors = t.errors,
			.client_id = c->id,
			.pid = c->cred.pid,
			.uid = c->cred.uid,
		};

		memcpy(rec.name, c->name, sizeof(rec.name));
		retired_client(&rec);
	}
	handover_live_drop(c->fd);
	close(c->fd);
	quota_acct_free(c->acct);
	free(c->regions);
	free(c);
}
