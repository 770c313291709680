/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "quota.h"

#define USER_BUCKETS 64
#define LOG_EVERY_MS 10000 /* one line per limit and scope: a crowd must not flood the log */

struct quota_user {
	uid_t uid;
	unsigned accts;
	uint64_t use[QUOTA_KINDS];
	struct quota_user *next;
};

struct quota_acct {
	struct quota_user *user;
	bool admitted;
	bool control_only; /* admitted on the admin reserve */
	uint64_t use[QUOTA_KINDS];
};

static const char *const names[QUOTA_KINDS] = {
	[QUOTA_CLIENTS] = "clients", [QUOTA_REGIONS] = "regions", [QUOTA_CHANNELS] = "channels",
	[QUOTA_MAPS] = "maps",	     [QUOTA_BYTES] = "bytes",	  [QUOTA_FDS] = "fds",
};

static uint64_t total[QUOTA_KINDS];
static struct quota_user *users[USER_BUCKETS];

const char *quota_kind_name(enum quota_kind k)
{
	return k < QUOTA_KINDS ? names[k] : "?";
}

static struct quota_user **bucket(uid_t uid)
{
	return &users[(uid * 2654435761u) % USER_BUCKETS];
}

static struct quota_user *user_find(uid_t uid)
{
	struct quota_user *u = *bucket(uid);

	while (u && u->uid != uid)
		u = u->next;
	return u;
}

struct quota_acct *quota_acct_new(uid_t uid)
{
	struct quota_acct *a = calloc(1, sizeof(*a));
	struct quota_user *u = user_find(uid);

	if (!a)
		return NULL;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			free(a);
			return NULL;
		}
		u->uid = uid;
		u->next = *bucket(uid);
		*bucket(uid) = u;
	}
	u->accts++;
	a->user = u;
	return a;
}

static void user_put(struct quota_user *u)
{
	struct quota_user **pp = bucket(u->uid);

	if (--u->accts)
		return;
	while (*pp != u)
		pp = &(*pp)->next;
	*pp = u->next;
	free(u);
}

/* Would @n more of @used go past @limit (+ @slack)? Without overflow either way. */
static bool over(uint64_t used, uint64_t n, uint64_t limit, uint64_t slack)
{
	limit = limit > UINT64_MAX - slack ? UINT64_MAX : limit + slack;
	return n > limit || used > limit - n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The first refusal by each limit, then one per LOG_EVERY_MS: enough for
 * an operator to see which limit bites, and whose. */
static void log_refusal(bool user, uid_t uid, enum quota_kind k, uint64_t limit)
{
	static uint64_t last[2][QUOTA_KINDS];
	uint64_t now = now_ms(), *l = &last[user][k];

	if (*l && now - *l < LOG_EVERY_MS)
		return;
	*l = now ? now : 1;
	if (user)
		log_notice("uid %u is at its limit of %llu %s (--user-limit): refusing with EDQUOT",
			   (unsigned)uid, (unsigned long long)limit, names[k]);
	else
		log_notice("dmad is at its limit of %llu %s in all (--limit): refusing with EDQUOT",
			   (unsigned long long)limit, names[k]);
}

/* The connection itself: a client, and its socket. */
static const struct quota_cost admission = {.n = {[QUOTA_CLIENTS] = 1, [QUOTA_FDS] = 1}};

/* Charge @c unless it takes the user or the total past its limit (+ @slack);
 * a refusal is logged when @say. */
static int charge(struct quota_acct *a, const struct quota_cost *c, const uint64_t slack[],
		  bool say)
{
	struct quota_user *u = a->user;

	for (int k = 0; k < QUOTA_KINDS; k++) {
		if (!c->n[k])
			continue;
		if (over(u->use[k], c->n[k], dmad.cfg.user_limit[k], slack[k])) {
			if (say)
				log_refusal(true, u->uid, k, dmad.cfg.user_limit[k]);
			return -EDQUOT;
		}
		if (over(total[k], c->n[k], dmad.cfg.limit[k], slack[k])) {
			if (say)
				log_refusal(false, u->uid, k, dmad.cfg.limit[k]);
			return -EDQUOT;
		}
	}
	for (int k = 0; k < QUOTA_KINDS; k++) {
		a->use[k] += c->n[k];
		u->use[k] += c->n[k];
		total[k] += c->n[k];
	}
	return 0;
}

int quota_charge(struct quota_acct *a, struct quota_cost c)
{
	static const uint64_t none[QUOTA_KINDS];

	if (!a)
		return 0;
	if (a->control_only) /* the reserve is for asking, not for mapping */
		return -EDQUOT;
	return charge(a, &c, none, true);
}

void quota_release(struct quota_acct *a, struct quota_cost c)
{
	if (!a)
		return;
	for (int k = 0; k < QUOTA_KINDS; k++) {
		/* Never below zero, whatever a caller got wrong. */
		uint64_t n = c.n[k] < a->use[k] ? c.n[k] : a->use[k];

		a->use[k] -= n;
		a->user->use[k] -= n;
		total[k] -= n;
	}
}

int quota_admit(struct quota_acct *a, bool admin)
{
	static const uint64_t none[QUOTA_KINDS];
	static const uint64_t reserve[QUOTA_KINDS] = {
		[QUOTA_CLIENTS] = QUOTA_ADMIN_RESERVE,
		[QUOTA_FDS] = QUOTA_ADMIN_RESERVE,
	};

	/* An admin past the limit is no refusal to log yet: the reserve decides. */
	if (charge(a, &admission, none, !admin) == 0) {
		a->admitted = true;
		return 0;
	}
	if (!admin || charge(a, &admission, reserve, true) < 0)
		return -EDQUOT;
	a->admitted = true;
	a->control_only = true;
	return 1;
}

void quota_acct_free(struct quota_acct *a)
{
	struct quota_cost rest;
	bool leaked = false;

	if (!a)
		return;
	if (a->admitted)
		quota_release(a, admission);
	for (int k = 0; k < QUOTA_KINDS; k++) {
		rest.n[k] = a->use[k];
		leaked |= a->use[k] != 0;
	}
	if (leaked) {
		log_error("uid %u: a client went with %llu maps, %llu fds still charged; "
			  "giving them back",
			  (unsigned)a->user->uid, (unsigned long long)rest.n[QUOTA_MAPS],
			  (unsigned long long)rest.n[QUOTA_FDS]);
		quota_release(a, rest);
	}
	user_put(a->user);
	free(a);
}

uint64_t quota_used(enum quota_kind k)
{
	return k < QUOTA_KINDS ? total[k] : 0;
}

unsigned quota_users(uid_t *uids, unsigned max)
{
	unsigned n = 0;

	for (unsigned b = 0; b < USER_BUCKETS; b++)
		for (struct quota_user *u = users[b]; u; u = u->next, n++)
			if (n < max)
				uids[n] = u->uid;
	return n;
}

uint64_t quota_user_used(uid_t uid, enum quota_kind k)
{
	struct quota_user *u = user_find(uid);

	return u && k < QUOTA_KINDS ? u->use[k] : 0;
}
