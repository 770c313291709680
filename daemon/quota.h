/* SPDX-License-Identifier: MIT */
/*
 * What clients make dmad hold, counted per user (uid) and in all against
 * limits kept below the kernel's own (vm.max_map_count for mappings,
 * RLIMIT_NOFILE for fds; limits.c derives them), so that a crowd of small
 * clients gets -EDQUOT instead of taking dmad to the kernel's limit, where
 * every mmap, malloc and accept fails for everyone: clients already
 * connected, status and admins included.
 *
 * Charged where dmad maps or opens something, released where it unmaps or
 * closes it: a region that was unregistered but stays mapped until the
 * copies that use it retire (a zombie, client.c) still counts, as does a
 * channel put but not yet drained. The per-client quotas of HELLO
 * (regions, channels, bytes of live registrations) stay in client.c.
 * Control thread only.
 */
#ifndef DMAD_QUOTA_H
#define DMAD_QUOTA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmad_proto.h"

/* What is counted; the numbers are the ones STATUS reports them by. */
enum quota_kind {
	QUOTA_CLIENTS = DMAD_PROTO_QUOTA_CLIENTS,   /* connections */
	QUOTA_REGIONS = DMAD_PROTO_QUOTA_REGIONS,   /* regions (zombies too), receive areas */
	QUOTA_CHANNELS = DMAD_PROTO_QUOTA_CHANNELS, /* channel rings, until destroyed */
	QUOTA_MAPS = DMAD_PROTO_QUOTA_MAPS,	    /* mappings in dmad: region or area, ring */
	QUOTA_BYTES = DMAD_PROTO_QUOTA_BYTES,	    /* bytes those mappings span */
	QUOTA_FDS = DMAD_PROTO_QUOTA_FDS, /* a socket per client, ring memfd + doorbell ... */
	QUOTA_KINDS = DMAD_PROTO_QUOTA_KINDS
};

/* A limit not set yet (limits_init() derives it), or none at all. */
#define QUOTA_UNLIMITED UINT64_MAX

/* Admins are admitted past the client and fd limits by this many: a
 * dmactl must get in when clients have taken every slot. Such a client is
 * for control requests only: it may map nothing. */
#define QUOTA_ADMIN_RESERVE 8

struct quota_cost {
	uint64_t n[QUOTA_KINDS];
};

static inline struct quota_cost quota_region(uint64_t len)
{
	return (struct quota_cost){
		.n = {[QUOTA_REGIONS] = 1, [QUOTA_MAPS] = 1, [QUOTA_BYTES] = len, [QUOTA_FDS] = 1}};
}

static inline struct quota_cost quota_chan(uint64_t ring_len)
{
	return (struct quota_cost){.n = {[QUOTA_CHANNELS] = 1,
					 [QUOTA_MAPS] = 1,
					 [QUOTA_BYTES] = ring_len,
					 [QUOTA_FDS] = 2}};
}

static inline struct quota_cost quota_fds(uint64_t n)
{
	return (struct quota_cost){.n = {[QUOTA_FDS] = n}};
}

/* One client's account: what it holds, and whose it is. */
struct quota_acct;

/*
 * quota_acct_new() - an account for a client of @uid, not admitted yet.
 * NULL when out of memory.
 */
struct quota_acct *quota_acct_new(uid_t uid);

/*
 * quota_admit() - charge the connection itself (a client and its socket).
 * Returns 0, 1 when only the admin reserve had room (@admin; the account
 * may then map nothing), or -EDQUOT.
 */
int quota_admit(struct quota_acct *a, bool admin);

/*
 * quota_acct_free() - give back the admission. Everything else must have
 * been released; what was not is logged and given back too. Accepts NULL.
 */
void quota_acct_free(struct quota_acct *a);

/*
 * quota_charge() - charge @c to @a, its user and the total, all or
 * nothing. Returns 0 or -EDQUOT. A NULL @a is dmad's own: never refused,
 * never counted.
 */
int quota_charge(struct quota_acct *a, struct quota_cost c);

/* quota_release() - give back what quota_charge() took. Accepts NULL @a. */
void quota_release(struct quota_acct *a, struct quota_cost c);

/* What is held now: in all, or by @uid. For STATUS, logs and tests. */
uint64_t quota_used(enum quota_kind k);
uint64_t quota_user_used(uid_t uid, enum quota_kind k);

/* quota_users() - the uids with a client now, at most @max of them into
 * @uids (in no particular order). Returns how many there are. */
unsigned quota_users(uid_t *uids, unsigned max);

/* "clients", "regions", ... as options and logs name them. */
const char *quota_kind_name(enum quota_kind k);

#endif /* DMAD_QUOTA_H */
