/* SPDX-License-Identifier: MIT */
/*
 * Counters are written by workers and read here without stopping them:
 * each value is read atomically, the set of them is not a snapshot.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "retired.h"
#include "place.h"
#include "status.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Other clients' names, pids, uids and counters are for admins only. */
static bool shown(const struct client *c, const struct client *viewer)
{
	return !c->closing && !c->refused && (viewer->admin || c == viewer);
}

/* Rows always sent: the viewer's uid's, and for an admin those in all. */
static unsigned nquota(const struct client *viewer)
{
	return (viewer->admin ? 2 : 1) * QUOTA_KINDS;
}

static void quota_rows(struct dmad_proto_quota *q, uint32_t uid)
{
	for (int k = 0; k < QUOTA_KINDS; k++)
		q[k] = (struct dmad_proto_quota){
			.kind = (uint32_t)k,
			.uid = uid,
			.used = uid == DMAD_PROTO_QUOTA_ALL ? quota_used(k)
							    : quota_user_used(uid, k),
			.limit = uid == DMAD_PROTO_QUOTA_ALL ? dmad.cfg.limit[k]
							     : dmad.cfg.user_limit[k],
		};
}

/*
 * Usage against limits in @size bytes: the viewer's uid's, and for an
 * admin everyone's together, then every other user's as room allows.
 */
static size_t quotas(uint8_t *buf, size_t size, const struct client *viewer,
		     struct dmad_proto_status *st)
{
	struct dmad_proto_quotas *qs = (struct dmad_proto_quotas *)buf;
	struct dmad_proto_quota *q = (struct dmad_proto_quota *)(qs + 1);
	size_t room = (size - sizeof(*qs)) / sizeof(*q);
	uid_t uids[64];
	unsigned n;

	qs->nquota = nquota(viewer);
	qs->rsvd = 0;
	quota_rows(q, viewer->cred.uid);
	if (!viewer->admin)
		return sizeof(*qs) + qs->nquota * sizeof(*q);
	quota_rows(q + QUOTA_KINDS, DMAD_PROTO_QUOTA_ALL);
	n = quota_users(uids, sizeof(uids) / sizeof(uids[0]));
	if (n > sizeof(uids) / sizeof(uids[0])) {
		st->flags |= DMAD_PROTO_LIST_TRUNCATED;
		n = sizeof(uids) / sizeof(uids[0]);
	}
	for (unsigned i = 0; i < n; i++) {
		if (uids[i] == viewer->cred.uid)
			continue;
		if (qs->nquota + QUOTA_KINDS > room) {
			st->flags |= DMAD_PROTO_LIST_TRUNCATED;
			break;
		}
		quota_rows(q + qs->nquota, uids[i]);
		qs->nquota += QUOTA_KINDS;
	}
	return sizeof(*qs) + qs->nquota * sizeof(*q);
}

/*
 * What every engine did since start, into @t and the header: released
 * devices' counters stay in it, so it never decreases. Then the records of
 * those devices, at @buf. Returns the bytes written there.
 */
static size_t totals(uint8_t *buf, struct dmad_proto_totals *t, struct dmad_proto_status *st)
{
	const struct retired_sum *gone = retired_sum();
	const struct dmad_proto_released *rec;

	t->nreleased = retired_records(&rec);
	t->released = gone->devices;
	t->ops += gone->ops;
	t->bytes += gone->bytes;
	t->errors += gone->errors;
	st->ops = t->ops;
	st->bytes = t->bytes;
	memcpy(buf, t, sizeof(*t));
	memcpy(buf + sizeof(*t), rec, t->nreleased * sizeof(*rec));
	return sizeof(*t) + t->nreleased * sizeof(*rec);
}

/* Bytes the totals and the released devices take. */
static size_t totals_size(void)
{
	const struct dmad_proto_released *rec;

	return sizeof(struct dmad_proto_totals) + retired_records(&rec) * sizeof(*rec);
}

/* Gone clients the viewer sees: others' are for admins only. */
static unsigned ngone(const struct client *viewer)
{
	const struct dmad_proto_gone_client *rec;
	unsigned n = retired_clients(&rec);

	return viewer->admin ? n : 0;
}

/* Bytes the client totals take, with @nclient client records. */
static size_t client_totals_size(const struct client *viewer, unsigned nclient)
{
	return sizeof(struct dmad_proto_client_totals) +
	       nclient * sizeof(struct dmad_proto_client_sum) +
	       ngone(viewer) * sizeof(struct dmad_proto_gone_client);
}

/*
 * The totals of the client records' @nclient clients, in their order, then
 * the gone clients the viewer sees, at @buf. Returns the bytes written.
 */
static size_t client_part(uint8_t *buf, const struct client *viewer, unsigned nclient)
{
	struct dmad_proto_client_totals *ct = (struct dmad_proto_client_totals *)buf;
	struct dmad_proto_client_sum *cs = (struct dmad_proto_client_sum *)(ct + 1);
	const struct dmad_proto_gone_client *rec;

	ct->nclient = 0;
	ct->ngone = ngone(viewer);
	for (struct client *c = dmad.clients; c && ct->nclient < nclient; c = c->next) {
		struct client_sum t;

		if (!shown(c, viewer))
			continue;
		t = client_totals(c);
		cs[ct->nclient++] = (struct dmad_proto_client_sum){
			.ops = t.ops,
			.bytes = t.bytes,
			.errors = t.errors,
			.client_id = c->id,
		};
	}
	retired_clients(&rec);
	memcpy(cs + ct->nclient, rec, ct->ngone * sizeof(*rec));
	return client_totals_size(viewer, ct->nclient);
}

uint32_t status_build(uint8_t *buf, size_t size, const struct client *viewer)
{
	const struct dmad_proto_status_tail tail = {.log_level = (uint32_t)log_max_level};
	struct dmad_proto_status *st = (struct dmad_proto_status *)buf;
	struct dmad_proto_totals t = {0};
	size_t off = sizeof(*st), full = size;

	/* The settings, quotas and totals come last, and always: records are
	 * left out for them. */
	size -= sizeof(tail) + sizeof(struct dmad_proto_quotas) +
		nquota(viewer) * sizeof(struct dmad_proto_quota) + totals_size() +
		client_totals_size(viewer, 0);
	memset(st, 0, sizeof(*st));
	if (!viewer->admin)
		st->flags |= DMAD_PROTO_LIST_OWN_ONLY;
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];
		struct dmad_proto_dev_info *di = (void *)(buf + off);

		/* Counted whether its record fits or not. */
		t.ops += LOAD(d->ops);
		t.bytes += LOAD(d->bytes);
		t.errors += LOAD(d->errors);
		if (off + sizeof(*di) > size) {
			st->flags |= DMAD_PROTO_LIST_TRUNCATED;
			continue;
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
		di->load = place_load(d);
		di->copybreak = d->copybreak;
		di->worker = d->worker;
		st->ndev++;
		off += sizeof(*di);
	}
	/* The daemon's CPU engine is no device, but its copies count. */
	if (dmad.cpu) {
		t.ops += LOAD(dmad.cpu->ops);
		t.bytes += LOAD(dmad.cpu->bytes);
		t.errors += LOAD(dmad.cpu->errors);
	}
	for (struct client *c = dmad.clients; c; c = c->next) {
		struct dmad_proto_client_info *ci = (void *)(buf + off);

		if (!shown(c, viewer))
			continue;
		/* Each client record comes with its sum, at the end. */
		if (off + sizeof(*ci) + (st->nclient + 1) * sizeof(struct dmad_proto_client_sum) >
		    size) {
			st->flags |= DMAD_PROTO_LIST_TRUNCATED;
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
	size -= st->nclient * sizeof(struct dmad_proto_client_sum);
	for (struct client *c = dmad.clients; c; c = c->next) {
		for (struct chan *ch = shown(c, viewer) ? c->chans : NULL; ch; ch = ch->next) {
			struct dmad_proto_chan_info *hi = (void *)(buf + off);

			if (off + sizeof(*hi) > size) {
				st->flags |= DMAD_PROTO_LIST_TRUNCATED;
				goto done;
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
			hi->node = ch->node;
			/* The library's, as its client set it (it may lie: display only). */
			hi->copybreak = LOAD(ch->ring->client_copybreak);
			st->nchan++;
			off += sizeof(*hi);
		}
	}
done:
	/* Right after the records, whether they all fit or not: dmad's settings. */
	memcpy(buf + off, &tail, sizeof(tail));
	off += sizeof(tail);
	off += quotas(buf + off,
		      full - off - totals_size() - client_totals_size(viewer, st->nclient), viewer,
		      st);
	off += totals(buf + off, &t, st);
	off += client_part(buf + off, viewer, st->nclient);
	return (uint32_t)off;
}

uint32_t status_build_all(uint8_t *buf, size_t size)
{
	static struct client all = {.admin = true, .hello = true};

	all.cred.uid = geteuid();
	return status_build(buf, size, &all);
}
