/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fair.h"
#include "handover_live.h"
#include "log.h"
#include "share.h"
#include "share_unit.h"

/* Uids with a setting of their own. Never freed: a worker may hold a
 * pointer to one's bucket at any time. Set by admins only, so bounded. */
#define UIDS_MAX 64

/* No rate anyone needs is near this, and tokens stay far from overflow. */
#define RATE_MAX (UINT64_C(1) << 50)

struct uid_share {
	uid_t uid;
	uint32_t weight; /* 0: the daemon's default */
	struct rate rate;
};

static struct uid_share uids[UIDS_MAX];
static unsigned nuids;

static struct uid_share *find_uid(uid_t uid, bool create)
{
	for (unsigned i = 0; i < nuids; i++)
		if (uids[i].uid == uid)
			return &uids[i];
	if (!create || nuids == UIDS_MAX)
		return NULL;
	uids[nuids].uid = uid;
	return &uids[nuids++];
}

/* @c's unit, looked up once: at connect while any unit has a setting,
 * else when first asked (a lookup reads /proc/PID/cgroup, tens of us that
 * a connect need not pay when no unit has a setting to apply). */
static const char *unit_of(struct client *c)
{
	if (!c->unit_known) {
		share_unit_of_pid(c->cred.pid, c->unit);
		c->unit_known = true;
	}
	return c->unit;
}

/* The settings of @c's unit, if any unit has any. */
static const struct unit_share *unit_share_of(struct client *c)
{
	return share_units_any() ? share_unit_find(unit_of(c)) : NULL;
}

/* A weight set for the client wins over its unit's default, which wins
 * over its uid's, which wins over the daemon's. */
static void resolve_weight(struct client *c)
{
	const struct unit_share *n = unit_share_of(c);
	struct uid_share *u = find_uid(c->cred.uid, false);

	if (c->weight_own)
		return;
	c->weight = n && n->weight ? n->weight : u && u->weight ? u->weight : FAIR_WEIGHT_DEFAULT;
}

/* The limit of the group @c belongs to: its unit's clients together when
 * the unit has one, else its uid's clients together. */
static struct rate *group_rate(struct client *c)
{
	const struct unit_share *n = unit_share_of(c);
	struct uid_share *u = find_uid(c->cred.uid, false);

	if (n && n->rate.bps)
		return (struct rate *)&n->rate;
	return u && u->rate.bps ? &u->rate : NULL;
}

void share_client_init(struct client *c)
{
	resolve_weight(c);
}

void share_chan_init(struct client *c, struct chan *ch)
{
	__atomic_store_n(&ch->weight, c->weight, __ATOMIC_RELAXED);
	/* Release: a worker that sees the pointer sees the bucket's settings. */
	__atomic_store_n(&ch->rate[0], c->rate.bps ? &c->rate : NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&ch->rate[1], group_rate(c), __ATOMIC_RELEASE);
}

bool share_uid_metered(uid_t uid)
{
	struct uid_share *u = find_uid(uid, false);

	return u && u->rate.bps;
}

/* Every channel of @c gets what @c and its uid are set to now. */
static void apply(struct client *c)
{
	for (struct chan *ch = c->chans; ch; ch = ch->next)
		share_chan_init(c, ch);
}

static struct client *find_client(uint32_t id)
{
	for (struct client *c = dmad.clients; c; c = c->next)
		if (c->id == id && !c->closing && !c->refused)
			return c;
	return NULL;
}

static int set_client(uint32_t id, uint32_t what, uint64_t value)
{
	struct client *c = find_client(id);

	if (!c)
		return -ESRCH;
	if (what == DMAD_PROTO_SHARE_WEIGHT) {
		c->weight = (uint32_t)value;
		c->weight_own = true;
	} else {
		rate_set(&c->rate, value);
	}
	apply(c);
	return 0;
}

static int set_uid(uid_t uid, uint32_t what, uint64_t value)
{
	struct uid_share *u = find_uid(uid, true);

	if (!u)
		return -ENOSPC;
	if (what == DMAD_PROTO_SHARE_WEIGHT)
		u->weight = (uint32_t)value;
	else
		rate_set(&u->rate, value);
	for (struct client *c = dmad.clients; c; c = c->next) {
		if (c->cred.uid != uid)
			continue;
		resolve_weight(c);
		apply(c);
	}
	return 0;
}

int share_set_units(const char *list, const char *where)
{
	int r = share_units_parse(list, where, true);

	for (struct client *c = dmad.clients; c; c = c->next) {
		resolve_weight(c);
		apply(c);
	}
	return r;
}

int share_on_set(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_share_set_req *req = rq->body;
	int r;

	(void)rep;
	if (req->rsvd)
		return -EBADMSG;
	if (req->what == DMAD_PROTO_SHARE_WEIGHT) {
		if (req->value < FAIR_WEIGHT_MIN || req->value > FAIR_WEIGHT_MAX)
			return -ERANGE;
	} else if (req->what == DMAD_PROTO_SHARE_RATE) {
		if (req->value > RATE_MAX)
			return -ERANGE;
	} else {
		return -EINVAL;
	}
	if (req->scope == DMAD_PROTO_SHARE_CLIENT)
		r = set_client(req->id, req->what, req->value);
	else if (req->scope == DMAD_PROTO_SHARE_UID)
		r = set_uid(req->id, req->what, req->value);
	else
		return -EINVAL;
	/* A setting is the state's: in the journal before the answer. */
	if (r == 0)
		handover_live_dirty();
	if (r == 0)
		log_info("%s %u: %s set to %llu by client %u (pid %d)",
			 req->scope == DMAD_PROTO_SHARE_CLIENT ? "client" : "uid", req->id,
			 req->what == DMAD_PROTO_SHARE_WEIGHT ? "weight" : "rate",
			 (unsigned long long)req->value, c->id, (int)c->cred.pid);
	return r;
}

/* The record of unit @name, added unless there is one. Returns 1 + its
 * index, or 0 when it does not fit. */
static uint32_t unit_record(struct dmad_proto_shares *h, struct dmad_proto_share_unit *sn,
			    size_t room, size_t *used, const char *name)
{
	const struct unit_share *u = share_unit_find(name);

	for (uint32_t i = 0; i < h->nunit; i++)
		if (!strcmp(sn[i].name, name))
			return i + 1;
	if (*used + sizeof(*sn) > room) {
		h->flags |= DMAD_PROTO_LIST_TRUNCATED;
		return 0;
	}
	sn[h->nunit] = (struct dmad_proto_share_unit){
		.weight = u ? u->weight : 0,
		.rate = u ? u->rate.bps : 0,
	};
	snprintf(sn[h->nunit].name, sizeof(sn->name), "%s", name);
	*used += sizeof(*sn);
	return ++h->nunit;
}

/* After the uid records: the unit of each client listed (in the order the
 * client records were written), then, for an admin, every unit with a
 * default share. */
static void list_units(struct client *c, struct dmad_proto_shares *h,
		       struct dmad_proto_share_client *sc, struct dmad_proto_share_unit *sn,
		       size_t room, size_t *used)
{
	const struct unit_share *u;
	uint32_t i = 0;

	for (struct client *o = dmad.clients; o && i < h->nclient; o = o->next) {
		if (o->closing || o->refused || (!c->admin && o != c))
			continue;
		if (*unit_of(o))
			sc[i].unit = unit_record(h, sn, room, used, o->unit);
		i++;
	}
	for (unsigned k = 0; c->admin && (u = share_unit_at(k)); k++)
		if (u->weight || u->rate.bps)
			unit_record(h, sn, room, used, u->name);
}

int share_on_list(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	static uint8_t body[DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr)];
	struct dmad_proto_shares *h = (void *)body;
	struct dmad_proto_share_client *sc = (void *)(h + 1);
	const size_t room = sizeof(body) - sizeof(*h);
	size_t used = 0;
	struct dmad_proto_share_uid *su;
	struct dmad_proto_share_unit *sn;

	(void)rq;
	*h = (struct dmad_proto_shares){.flags = c->admin ? 0 : DMAD_PROTO_LIST_OWN_ONLY};
	for (struct client *o = dmad.clients; o; o = o->next) {
		if (o->closing || o->refused || (!c->admin && o != c))
			continue;
		if (used + sizeof(*sc) > room) {
			h->flags |= DMAD_PROTO_LIST_TRUNCATED;
			break;
		}
		sc[h->nclient++] = (struct dmad_proto_share_client){
			.client_id = o->id,
			.uid = o->cred.uid,
			.weight = o->weight,
			.rate = o->rate.bps,
		};
		used += sizeof(*sc);
	}
	su = (void *)(sc + h->nclient);
	for (unsigned i = 0; i < nuids; i++) {
		if (!c->admin && uids[i].uid != c->cred.uid)
			continue;
		if (used + sizeof(*su) > room) {
			h->flags |= DMAD_PROTO_LIST_TRUNCATED;
			break;
		}
		su[h->nuid++] = (struct dmad_proto_share_uid){
			.uid = uids[i].uid,
			.weight = uids[i].weight,
			.rate = uids[i].rate.bps,
		};
		used += sizeof(*su);
	}
	sn = (void *)(su + h->nuid);
	list_units(c, h, sc, sn, room, &used);
	rep->body = body;
	rep->len = (uint32_t)(sizeof(*h) + used);
	return 0;
}

bool share_uid_get(unsigned i, uint32_t *ret_uid, uint32_t *ret_weight, uint64_t *ret_rate)
{
	if (i >= nuids)
		return false;
	*ret_uid = uids[i].uid;
	*ret_weight = uids[i].weight;
	*ret_rate = uids[i].rate.bps;
	return true;
}

int share_uid_carry(uint32_t uid, uint32_t weight, uint64_t rate)
{
	struct uid_share *u = find_uid(uid, true);

	if (!u)
		return -ENOSPC;
	u->weight = weight;
	rate_set(&u->rate, rate);
	return 0;
}

/* A decimal number, with @suffix an optional binary K, M, G or T after it.
 * Returns 0 or -EINVAL. */
static int parse_num(const char *s, bool suffix, uint64_t *ret)
{
	static const char suffixes[] = "KMGT";
	unsigned long long v;
	const char *p;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (suffix && *end && (p = strchr(suffixes, *end)) && !end[1]) {
		unsigned shift = 10 * (unsigned)(p - suffixes + 1);

		if (v > (UINT64_MAX >> shift))
			return -EINVAL;
		v <<= shift;
	} else if (*end) {
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int share_parse_setting(char *kv, struct share_setting *ret)
{
	char *save = NULL;
	uint64_t v;

	*ret = (struct share_setting){0};
	for (kv = strtok_r(kv, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "weight=", 7)) {
			if (parse_num(kv + 7, false, &v) < 0 || v < FAIR_WEIGHT_MIN ||
			    v > FAIR_WEIGHT_MAX)
				return -EINVAL;
			ret->weight = (uint32_t)v;
		} else if (!strncmp(kv, "rate=", 5)) {
			if (parse_num(kv + 5, true, &ret->rate) < 0 || ret->rate > RATE_MAX)
				return -EINVAL;
			ret->has_rate = true;
		} else {
			return -EINVAL;
		}
	}
	return ret->weight || ret->has_rate ? 0 : -EINVAL;
}

int share_parse_user(const char *arg)
{
	char buf[256], *who, *rest;
	struct share_setting set;
	struct uid_share *u;
	struct passwd *pw;
	uid_t uid;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) || !(rest = strchr(buf, ':')))
		goto bad;
	*rest++ = '\0';
	who = buf;
	if ((pw = getpwnam(who))) {
		uid = pw->pw_uid;
	} else {
		uint64_t v;

		if (parse_num(who, false, &v) < 0 || v >= UINT32_MAX)
			goto bad;
		uid = (uid_t)v;
	}
	if (share_parse_setting(rest, &set) < 0)
		goto bad;
	u = find_uid(uid, true);
	if (!u)
		return log_error_errno(-ENOSPC, "--user-share: more than %d users", UIDS_MAX);
	if (set.weight)
		u->weight = set.weight;
	if (set.has_rate)
		rate_set(&u->rate, set.rate);
	return 0;
bad:
	return log_error_errno(-EINVAL,
			       "--user-share '%s': expected USER:weight=N,rate=N (a user name or "
			       "uid; weight %u..%u; rate in bytes/s, K, M, G or T, 0 for none)",
			       arg, FAIR_WEIGHT_MIN, FAIR_WEIGHT_MAX);
}
