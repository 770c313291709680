/* SPDX-License-Identifier: MIT */
/*
 * Counters are written by workers and read here without stopping them:
 * each value is read atomically, the set of them is not a snapshot.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "log.h"
#include "status.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* The devices, clients and channels that fit in @size bytes. */
static uint32_t records(uint8_t *buf, size_t size)
{
	struct dmad_proto_status *st = (struct dmad_proto_status *)buf;
	size_t off = sizeof(*st);

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];
		struct dmad_proto_dev_info *di = (void *)(buf + off);

		if (off + sizeof(*di) > size) {
			st->truncated = 1;
			break;
		}
		memset(di, 0, sizeof(*di));
		snprintf(di->name, sizeof(di->name), "%s", d->name);
		snprintf(di->driver, sizeof(di->driver), "%s", d->driver);
		di->capa = d->capa;
		di->ops = LOAD(d->ops);
		di->bytes = LOAD(d->bytes);
		di->errors = LOAD(d->errors);
		di->dev_id = (uint32_t)d->dev_id;
		di->state = d->state;
		di->vchans = 1;
		di->channels = d->nchans;
		di->copybreak = d->copybreak;
		di->worker = d->worker;
		st->ops += di->ops;
		st->bytes += di->bytes;
		st->ndev++;
		off += sizeof(*di);
	}
	/* The daemon's CPU engine is no device, but its copies count. */
	if (dmad.cpu) {
		st->ops += LOAD(dmad.cpu->ops);
		st->bytes += LOAD(dmad.cpu->bytes);
	}
	for (struct client *c = dmad.clients; c; c = c->next) {
		struct dmad_proto_client_info *ci = (void *)(buf + off);

		if (c->closing)
			continue;
		if (off + sizeof(*ci) > size) {
			st->truncated = 1;
			break;
		}
		memset(ci, 0, sizeof(*ci));
		memcpy(ci->name, c->name, sizeof(ci->name));
		ci->bytes_mapped = c->bytes_mapped;
		ci->client_id = c->id;
		ci->pid = c->cred.pid;
		ci->uid = c->cred.uid;
		ci->channels = c->nchans;
		ci->regions = c->nregions;
		st->nclient++;
		off += sizeof(*ci);
	}
	for (struct client *c = dmad.clients; c; c = c->next) {
		for (struct chan *ch = c->closing ? NULL : c->chans; ch; ch = ch->next) {
			struct dmad_proto_chan_info *hi = (void *)(buf + off);

			if (off + sizeof(*hi) > size) {
				st->truncated = 1;
				return (uint32_t)off;
			}
			memset(hi, 0, sizeof(*hi));
			if (ch->dev)
				snprintf(hi->device, sizeof(hi->device), "%s", ch->dev->name);
			else if (ch->moving)
				snprintf(hi->device, sizeof(hi->device), "(moving)");
			hi->ops = LOAD(ch->ops);
			hi->bytes = LOAD(ch->bytes);
			hi->errors = LOAD(ch->errors);
			hi->client_id = c->id;
			hi->chan_id = ch->id;
			hi->copybreak = ch->copybreak;
			st->nchan++;
			off += sizeof(*hi);
		}
	}
	return (uint32_t)off;
}

uint32_t status_build(uint8_t *buf, size_t size)
{
	const struct dmad_proto_status_tail tail = {.log_level = (uint32_t)log_max_level};
	uint32_t off = records(buf, size - sizeof(tail));

	/* Right after the records, whether they all fit or not. */
	memcpy(buf + off, &tail, sizeof(tail));
	return off + (uint32_t)sizeof(tail);
}
