/* SPDX-License-Identifier: MIT */
/* A client's regions as workers resolve them, and their retirement. Control thread. */
#ifndef DMAD_REGION_TABLE_H
#define DMAD_REGION_TABLE_H

#include <stdbool.h>
#include <stdint.h>

struct client;
struct region;

/* The registered (not retired) region with id @id, or NULL. */
struct region *region_table_get(struct client *c, uint32_t id);

/*
 * region_table_held() - the region that holds id @id, registered or
 * retired but still resolved by workers (a restart hands both on), or NULL.
 */
struct region *region_table_held(struct client *c, uint32_t id);

/*
 * region_table_add() - give @r the lowest free id and publish it to workers.
 * Returns the id, -EDQUOT (no 16-bit id left), -ENOMEM.
 */
int region_table_add(struct client *c, struct region *r);

/*
 * region_table_put() - publish @r under @id, the id it had in the dmad
 * before a restart. Returns @id, -EEXIST (taken), -EDQUOT, -ENOMEM.
 */
int region_table_put(struct client *c, struct region *r, uint32_t id);

/*
 * region_retire() - unregister @r: it keeps its id, and descriptors the
 * client published before now still resolve to it, until every channel has
 * taken them; it is unmapped once the copies taken until then retired.
 */
void region_retire(struct client *c, struct region *r);

/* region_table_reap() - advance retirements; true when none is left. */
bool region_table_reap(struct client *c);

#endif /* DMAD_REGION_TABLE_H */
