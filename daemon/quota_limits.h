/* SPDX-License-Identifier: MIT */
/*
 * Where the quotas' limits come from: options, else the kernel's own
 * limits with room left over for everything dmad maps and opens for
 * itself (DPDK, malloc arenas, thread stacks, a sanitizer's shadow).
 */
#ifndef DMAD_QUOTA_LIMITS_H
#define DMAD_QUOTA_LIMITS_H

#include <stdint.h>

#include "quota.h"

/*
 * limits_parse() - "KIND=N[,KIND=N...]" (--limit, --user-limit) into
 * @limits, KIND a quota_kind_name() and N a number with an optional K, M,
 * G or T (binary) suffix. Kinds not named keep their value. Returns 0, or
 * -EINVAL after logging what is wrong with it, naming @option.
 */
int limits_parse(const char *option, const char *arg, uint64_t limits[QUOTA_KINDS]);

/*
 * limits_parse_client() - --client-limit: "regions=N,channels=N,bytes=N",
 * any of them, into dmad.cfg's per-client quotas (the ones HELLO
 * announces). Returns 0 or -EINVAL (logged).
 */
int limits_parse_client(const char *arg);

/*
 * limits_init() - raise the soft RLIMIT_NOFILE to the hard one, then fill
 * every limit the options left unset: in all, from vm.max_map_count and
 * RLIMIT_NOFILE; per user, half of that. Logs what it chose. Before the
 * first client.
 */
void limits_init(void);

#endif /* DMAD_QUOTA_LIMITS_H */
