/* SPDX-License-Identifier: MIT */
/* Mapping a client's sealed memfd into the daemon and making it DMA-able. */
#ifndef DMAD_REGION_H
#define DMAD_REGION_H

#include <stdint.h>

#include "daemon.h"

/*
 * region_map() - map the first @len bytes of @fd MAP_SHARED, after checking
 * it is a memfd sealed against shrinking (a shrink under a live mapping is
 * SIGBUS in the daemon), not on hugetlbfs (a punched hole there is refilled
 * only from the shared pool: SIGBUS once it is empty), and at least @len
 * long. The caller keeps @fd.
 * The mapping, and a duplicate of @fd kept for a restart's handover, are
 * charged to @acct (NULL: dmad's own) until region_unmap().
 * Returns 0, -EINVAL (not a sealed memfd, hugetlbfs, too short, len 0), -EDQUOT (over
 * a limit of @acct's user or of dmad), -ENOTSUP (no IOVA for it on these
 * devices), -ENOMEM.
 */
int region_map(int fd, uint64_t len, struct quota_acct *acct, struct region **ret_region);

/* region_unmap() - undo region_map(), and give the charge back. Accepts NULL. */
void region_unmap(struct region *r);

#endif /* DMAD_REGION_H */
