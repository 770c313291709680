/* SPDX-License-Identifier: MIT */
/*
 * The share module's defaults per systemd unit (DMAD_UNIT_SHARE in the
 * config file): a unit's default weight for its clients and the rate limit
 * of its clients together, and which unit a client runs in. Inside the
 * share module only (share.c applies them); control thread.
 */
#ifndef DMAD_SHARE_UNIT_H
#define DMAD_SHARE_UNIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmad_proto.h"
#include "rate.h"

/* Units with a setting, ever: slots are never freed (a worker may hold a
 * pointer to a unit's bucket at any time); set by admins only, so bounded. */
#define SHARE_UNITS_MAX 64

struct unit_share {
	char name[DMAD_PROTO_UNIT_MAX];
	uint32_t weight; /* 0: none */
	struct rate rate;
};

/* What "weight=N,rate=N" says (share.c; either or both). */
struct share_setting {
	uint32_t weight; /* 0: not given */
	bool has_rate;
	uint64_t rate;
};

/* share_parse_setting() - parse "weight=N,rate=N" in place. 0 or -EINVAL. */
int share_parse_setting(char *kv, struct share_setting *ret);

/*
 * share_unit_of_pid() - the system unit @pid runs in ("backup.service",
 * "session-2.scope"), from its cgroup as libsystemd reads it; "" when it
 * has none or cannot be known (pid 0: a peer in another pid namespace).
 */
void share_unit_of_pid(pid_t pid, char ret[DMAD_PROTO_UNIT_MAX]);

/* share_unit_find() - the unit @name's settings, or NULL when it has none. */
const struct unit_share *share_unit_find(const char *name);

/* share_units_any() - has any unit a setting now? */
bool share_units_any(void);

/* share_unit_at() - the @i-th unit with a slot (for SHARES), NULL past the last. */
const struct unit_share *share_unit_at(unsigned i);

/*
 * share_units_parse() - @list is DMAD_UNIT_SHARE's value: blank-separated
 * "UNIT:weight=N,rate=N". With @apply false only checks it; with @apply
 * true makes it the units' settings, clearing those of units it no longer
 * names. Returns 0, or -EINVAL after logging what is wrong at @where, or
 * -ENOSPC when more than SHARE_UNITS_MAX units were ever named.
 */
int share_units_parse(const char *list, const char *where, bool apply);

#endif /* DMAD_SHARE_UNIT_H */
