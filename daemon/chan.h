/* SPDX-License-Identifier: MIT */
/* Client channels: the shared ring, and attaching it to a device's worker. */
#ifndef DMAD_CHAN_H
#define DMAD_CHAN_H

#include "daemon.h"

/*
 * Who a channel belongs to, as the channel layer needs to know it: where
 * the owner publishes the region table its descriptors are checked
 * against, whom its ring is charged to, and a number for the logs. The
 * owner itself (a client session, an rx flow) is no business of this layer.
 */
struct chan_owner {
	struct region_table *const *regions;
	struct quota_acct *acct;
	uint32_t id;
};

/*
 * chan_create() - allocate a channel with its ring memfd (sealed, mapped
 * here) and doorbell eventfd, charged to @o's quota account until
 * chan_destroy(), and list it (chan_next()). Not attached to anything yet.
 * Returns 0, -EDQUOT, -ENOMEM, or a negative errno from memfd/eventfd/mmap.
 */
int chan_create(const struct chan_owner *o, uint32_t caps, struct chan **ret_chan);

/*
 * chan_adopt() - chan_create() over a ring and doorbell a dmad before a
 * restart made (@ring_fd, @doorbell_fd: taken, closed on failure),
 * resuming at consumer index @head with @err_tail error records behind.
 * The ring's memfd must be one of a ring's size (handover_state.c checked
 * it). Returns 0, -EDQUOT, -ENOMEM, or a negative errno from mmap.
 */
int chan_adopt(const struct chan_owner *o, uint32_t caps, int ring_fd, int doorbell_fd,
	       uint32_t head, uint32_t err_tail, struct chan **ret_chan);

/*
 * chan_served() - will a worker take what @ch's ring holds: it is on a
 * device, or between two (detached by a removal or a rebalance, draining
 * before it is attached to the next)? Not for the library's CPU fallback,
 * nor once killed. Control thread.
 */
static inline bool chan_served(const struct chan *ch)
{
	return ch->dev || ch->moving || (ch->rebalancing && !ch->dead);
}

/* Every channel not yet destroyed, in no particular order: chan_next(NULL) first. */
struct chan *chan_next(struct chan *prev);

/*
 * chan_kill() - its owner is done with @ch (put, or owner gone): it leaves
 * its device without waiting, is never attached again, and is destroyed
 * once chan_gone(). Control thread.
 */
void chan_kill(struct chan *ch);

/*
 * chan_attach() - put @ch on @d (NULL: CPU fallback in the library) and
 * publish it to @d's worker. Control thread. Returns 0 or -ENOMEM.
 */
int chan_attach(struct chan *ch, struct device *d);

/*
 * chan_detach() - unpublish @ch from its device, and wait until no worker
 * holds it; its in-flight copies still retire: destroy it only once
 * chan_drained(). Control thread.
 */
void chan_detach(struct chan *ch);

/* After chan_kill(): has no worker held it since, and has it drained? */
bool chan_gone(struct chan *ch);

/*
 * chan_detach_all() - take every channel off @d with one grace period.
 * Returns a malloc'ed array (count in *ret_n) or NULL when there were none
 * or on allocation failure (then *ret_n is 0 and nothing was detached).
 */
struct chan **chan_detach_all(struct device *d, uint32_t *ret_n);

/* Has the worker retired every descriptor it took from @ch? */
bool chan_drained(struct chan *ch);

/* chan_destroy() - unmap and close. After detach, a grace period, drained. */
void chan_destroy(struct chan *ch);

/* chan_mark_dead() - tell the client nothing more will complete, wake it. */
void chan_mark_dead(struct chan *ch);

#endif /* DMAD_CHAN_H */
