/* SPDX-License-Identifier: MIT */
/*
 * Who gets how much of an engine: each client's weight and byte-rate
 * limit, and each uid's default weight for its clients and the rate limit
 * of its clients together. Set by admins (SHARE_SET, dmactl set) and by
 * --user-share; fair.c applies them in the workers through each channel's
 * weight and rate pointers, which this module keeps up to date. Control
 * thread only.
 */
#ifndef DMAD_SHARE_H
#define DMAD_SHARE_H

#include "client.h"

/*
 * share_parse_user() - --user-share "USER:weight=N,rate=N" (either or both;
 * USER a name or a uid; a rate in bytes per second with an optional K, M,
 * G or T binary suffix, 0 for none). Returns 0, or -EINVAL after logging
 * what is wrong, or -ENOSPC when too many uids have settings.
 */
int share_parse_user(const char *arg);

/*
 * share_set_units() - DMAD_UNIT_SHARE from the config file (@where names
 * it for errors): each systemd unit's default weight for its clients and
 * the rate limit of its clients together, replacing the last setting;
 * every client's weight and limits follow. Returns as share_units_parse()
 * (share_unit.h); with @list checked by it first, 0.
 */
int share_set_units(const char *list, const char *where);

/* share_client_init() - at connect: @c's weight from its unit's, its
 * uid's or the daemon's default, the first that has one. */
void share_client_init(struct client *c);

/* share_chan_init() - @ch of @c gets its owner's weight and limits. */
void share_chan_init(struct client *c, struct chan *ch);

/*
 * share_uid_metered() - do the clients of @uid have a byte rate, whatever
 * their own settings (those of an admin's SHARE_SET for one client are
 * not carried across a restart)? A restart's bridge leaves their rings to
 * the workers, which meter them.
 */
bool share_uid_metered(uid_t uid);

/* Request handlers (client_requests.c's table): SHARE_SET, admins only; SHARES. */
int share_on_set(struct client *c, const struct client_req *rq, struct client_rep *rep);
int share_on_list(struct client *c, const struct client_req *rq, struct client_rep *rep);

/*
 * share_uid_get() - the settings of the @i-th uid that has some, for a
 * restart's handover (handover_totals.c). False past the last.
 */
bool share_uid_get(unsigned i, uint32_t *ret_uid, uint32_t *ret_weight, uint64_t *ret_rate);

/* share_uid_carry() - @uid's settings as the dmad before a restart had them
 * (weight 0: the default). Before any client is restored. Returns 0 or -ENOSPC. */
int share_uid_carry(uint32_t uid, uint32_t weight, uint64_t rate);

#endif /* DMAD_SHARE_H */
