/* SPDX-License-Identifier: MIT */
/*
 * A client's region table as workers see it, and how a region leaves it.
 *
 * Descriptors name regions by id, and a worker resolves the id when it takes
 * the descriptor off the ring: possibly long after the client wrote it (a
 * channel detached while its device drains, a busy engine). So an
 * unregistered region keeps its slot, and with it its id, until every
 * channel has consumed what its client had published when it asked: those
 * descriptors resolve to the region they were written for and complete
 * normally, and no region registered later can be taken for it. Only then
 * does it leave the table; it is unmapped once every copy consumed before
 * that has retired.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "client.h"
#include "handover_live.h"
#include "log.h"
#include "region.h"
#include "region_table.h"

/* Descriptors carry 16-bit region ids. */
#define MAX_REGION_ID UINT16_MAX

static struct chan *find_any_chan(struct client *c, uint32_t id)
{
	struct chan *ch = client_find_chan(c->chans, id);

	return ch ? ch : client_find_chan(c->dead_chans, id);
}

/*
 * Publish a copy of the table with slot @id set to @r (none if NULL), and
 * without the zombies that move to their next stage. One grace period.
 */
static int publish(struct client *c, uint32_t id, struct region *r)
{
	struct region_table *old = c->regions, *t;
	uint32_t n = old ? old->n : 0;

	if (r && id >= n)
		n = id + 1;
	t = calloc(1, sizeof(*t) + n * sizeof(t->slot[0]));
	if (!t)
		return -ENOMEM;
	t->n = n;
	if (old)
		memcpy(t->slot, old->slot, old->n * sizeof(t->slot[0]));
	if (r)
		t->slot[id] = &r->view;
	for (struct region_zombie *z = c->zombies; z; z = z->next)
		if (z->next_stage)
			t->slot[z->r->id] = NULL;
	rcu_publish(c->regions, t);
	/* Workers may be validating against the old table until a grace
	 * period passes; nothing here needs to wait for that. */
	rcu_defer_free(old);
	return 0;
}

static struct region *slot(struct client *c, uint32_t id)
{
	if (!c->regions || id >= c->regions->n || !c->regions->slot[id])
		return NULL;
	return (struct region *)c->regions->slot[id]; /* view is the first member */
}

struct region *region_table_get(struct client *c, uint32_t id)
{
	struct region *r = slot(c, id);

	return r && !r->retired ? r : NULL;
}

struct region *region_table_held(struct client *c, uint32_t id)
{
	return slot(c, id);
}

int region_table_add(struct client *c, struct region *r)
{
	uint32_t id = 0;
	int ret;

	/* Retired regions still hold their slot: their ids are not free yet. */
	while (slot(c, id))
		id++;
	if (id > MAX_REGION_ID)
		return -EDQUOT;
	r->id = id;
	ret = publish(c, id, r);
	return ret < 0 ? ret : (int)id;
}

int region_table_put(struct client *c, struct region *r, uint32_t id)
{
	int ret;

	if (id > MAX_REGION_ID)
		return -EDQUOT;
	if (slot(c, id))
		return -EEXIST;
	r->id = id;
	ret = publish(c, id, r);
	return ret < 0 ? ret : (int)id;
}

/*
 * Descriptor count at which @ch's worker will have taken everything its
 * client has published so far. A channel no worker reads (the library
 * copies by itself) and a faulted ring will take nothing more.
 */
static uint64_t consumed_target(struct chan *ch)
{
	/* Tail first: the client published it after seeing a head that the
	 * consumed count read next is at least (the worker stores consumed
	 * before sq_head), so an honest tail is at most one ring ahead. */
	uint32_t tail = __atomic_load_n(&ch->ring->sq_tail, __ATOMIC_ACQUIRE);
	uint64_t consumed = rcu_deref(ch->consumed);
	uint32_t pending = tail - (uint32_t)consumed;

	if (!chan_served(ch) || pending > DMAD_PROTO_SQ_ENTRIES)
		return consumed;
	return consumed + pending;
}

/* A zombie with one mark per channel of @c, live and put; counts unset. */
static struct region_zombie *zombie_new(struct client *c, struct region *r)
{
	struct region_zombie *z;
	uint32_t n = 0;

	for (struct chan *ch = c->chans; ch; ch = ch->next)
		n++;
	for (struct chan *ch = c->dead_chans; ch; ch = ch->next)
		n++;
	z = calloc(1, sizeof(*z) + n * sizeof(z->marks[0]));
	if (!z)
		return NULL;
	z->r = r;
	for (struct chan *ch = c->chans; ch; ch = ch->next)
		z->marks[z->n++].chan_id = ch->id;
	for (struct chan *ch = c->dead_chans; ch; ch = ch->next)
		z->marks[z->n++].chan_id = ch->id;
	return z;
}

static void zombie_mark(struct client *c, struct region_zombie *z, uint64_t (*count)(struct chan *))
{
	for (uint32_t i = 0; i < z->n; i++) {
		struct chan *ch = find_any_chan(c, z->marks[i].chan_id);

		/* Destroyed since the zombie was made: it had drained. */
		z->marks[i].count = ch ? count(ch) : 0;
	}
}

static uint64_t consumed_now(struct chan *ch)
{
	return rcu_deref(ch->consumed);
}

void region_retire(struct client *c, struct region *r)
{
	struct region_zombie *z = zombie_new(c, r);

	r->retired = true;
	c->nregions--;
	c->bytes_mapped -= r->view.len;
	if (!z) {
		/* Cannot track it: keeping the mapping (and the id) forever is
		 * safe, unmapping is not. */
		log_error("out of memory retiring region %u of client %u; keeping it mapped", r->id,
			  c->id);
		return;
	}
	zombie_mark(c, z, consumed_target);
	z->next = c->zombies;
	c->zombies = z;
}

/* Has every channel taken (stage 1) or retired (stage 2) up to its mark? */
static bool zombie_ready(struct client *c, const struct region_zombie *z)
{
	for (uint32_t i = 0; i < z->n; i++) {
		struct chan *ch = find_any_chan(c, z->marks[i].chan_id);

		/* A channel already destroyed had drained: nothing of it is pending. */
		if (!ch)
			continue;
		if (z->unpublished) {
			if (rcu_deref(ch->retired) < z->marks[i].count)
				return false;
		} else if (chan_served(ch)) {
			/* Put channels and faulted rings take nothing more. After a
			 * crash the next dmad takes again what had not retired (the
			 * ring's completed word says where): until then the id must
			 * still be the region's, in the journal too. */
			uint64_t n =
				dmad.crash_safe ? rcu_deref(ch->retired) : rcu_deref(ch->consumed);

			if (!rcu_deref(ch->faulted) && n < z->marks[i].count)
				return false;
		}
	}
	return true;
}

/*
 * Stage 1 -> 2: out of the table (one publication for every region ready),
 * then, once a grace period has passed (no worker still resolves against a
 * table that has it), mark what every channel had consumed by then: that
 * must retire before the unmap. The stage-2 marks are allocated first, so
 * that running out of memory leaves things as they were.
 */
static void unpublish_ready(struct client *c)
{
	uint64_t token;
	bool any = false;

	for (struct region_zombie *z = c->zombies; z; z = z->next) {
		z->next_stage = NULL;
		if (!z->unpublished && zombie_ready(c, z))
			z->next_stage = zombie_new(c, z->r);
		any |= z->next_stage != NULL;
	}
	if (any && publish(c, 0, NULL) < 0) {
		for (struct region_zombie *z = c->zombies; z; z = z->next) {
			free(z->next_stage);
			z->next_stage = NULL;
		}
		return; /* try again at the next tick */
	}
	/* The crash journal hands on what the table holds: it must stop
	 * naming these before their memfds leave the fd store. */
	if (any)
		handover_live_dirty();
	token = rcu_token();
	for (struct region_zombie **zp = &c->zombies; *zp; zp = &(*zp)->next) {
		struct region_zombie *z = *zp, *z2 = z->next_stage;

		if (!z2)
			continue;
		z2->unpublished = true;
		z2->token = token;
		z2->next = z->next;
		*zp = z2;
		free(z);
	}
}

/* Stage 2's marks, once nothing consumed from now on can name the region. */
static void mark_unpublished(struct client *c)
{
	for (struct region_zombie *z = c->zombies; z; z = z->next) {
		if (z->unpublished && !z->marked && rcu_passed(z->token)) {
			zombie_mark(c, z, consumed_now);
			z->marked = true;
		}
	}
}

bool region_table_reap(struct client *c)
{
	struct region_zombie **zp = &c->zombies;

	unpublish_ready(c);
	mark_unpublished(c);
	while (*zp) {
		struct region_zombie *z = *zp;

		if (z->marked && zombie_ready(c, z)) {
			*zp = z->next;
			region_unmap(z->r);
			free(z);
		} else {
			zp = &z->next;
		}
	}
	return !c->zombies;
}
