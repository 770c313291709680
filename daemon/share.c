/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fair.h"
#include "log.h"
#include "share.h"

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

static uint32_t default_weight(uid_t uid)
{
	struct uid_share *u = find_uid(uid, false);

	return u && u->weight ? u->weight : FAIR_WEIGHT_DEFAULT;
}

void share_client_init(struct client *c)
{
	c->weight = default_weight(c->cred.uid);
}

void share_chan_init(struct client *c, struct chan *ch)
{
	struct uid_share *u = find_uid(c->cred.uid, false);

	__atomic_store_n(&ch->weight, c->weight, __ATOMIC_RELAXED);
	/* Release: a worker that sees the pointer sees the bucket's settings. */
	__atomic_store_n(&ch->rate[0], c->rate.bps ? &c->rate : NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&ch->rate[1], u && u->rate.bps ? &u->rate : NULL, __ATOMIC_RELEASE);
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
		/* A weight of its own wins over its uid's default. */
		if (what == DMAD_PROTO_SHARE_WEIGHT && !c->weight_own)
			c->weight = u->weight;
		apply(c);
	}
	return 0;
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
	if (r == 0)
		log_info("%s %u: %s set to %llu by client %u (pid %d)",
			 req->scope == DMAD_PROTO_SHARE_CLIENT ? "client" : "uid", req->id,
			 req->what == DMAD_PROTO_SHARE_WEIGHT ? "weight" : "rate",
			 (unsigned long long)req->value, c->id, (int)c->cred.pid);
	return r;
}

int share_on_list(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	static uint8_t body[DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr)];
	struct dmad_proto_shares *h = (void *)body;
	struct dmad_proto_share_client *sc = (void *)(h + 1);
	const size_t room = sizeof(body) - sizeof(*h);
	size_t used = 0;
	struct dmad_proto_share_uid *su;

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

int share_parse_user(const char *arg)
{
	char buf[256], *who, *rest, *kv, *save = NULL;
	uint64_t weight = 0, rate = 0;
	bool has_rate = false;
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
	for (kv = strtok_r(rest, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "weight=", 7)) {
			if (parse_num(kv + 7, false, &weight) < 0 || weight < FAIR_WEIGHT_MIN ||
			    weight > FAIR_WEIGHT_MAX)
				goto bad;
		} else if (!strncmp(kv, "rate=", 5)) {
			if (parse_num(kv + 5, true, &rate) < 0 || rate > RATE_MAX)
				goto bad;
			has_rate = true;
		} else {
			goto bad;
		}
	}
	if (!weight && !has_rate)
		goto bad;
	u = find_uid(uid, true);
	if (!u)
		return log_error_errno(-ENOSPC, "--user-share: more than %d users", UIDS_MAX);
	if (weight)
		u->weight = (uint32_t)weight;
	if (has_rate)
		rate_set(&u->rate, rate);
	return 0;
bad:
	return log_error_errno(-EINVAL,
			       "--user-share '%s': expected USER:weight=N,rate=N (a user name or "
			       "uid; weight %u..%u; rate in bytes/s, K, M, G or T, 0 for none)",
			       arg, FAIR_WEIGHT_MIN, FAIR_WEIGHT_MAX);
}
