/* SPDX-License-Identifier: MIT */
/* Client channels: the shared ring, and attaching it to a device's worker. */
#ifndef DMAD_CHAN_H
#define DMAD_CHAN_H

#include "daemon.h"

struct client;

/*
 * chan_create() - allocate a channel with its ring memfd (sealed, mapped
 * here) and doorbell eventfd, charged to @c's quota account until
 * chan_destroy(). Not attached to anything yet.
 * Returns 0, -EDQUOT, -ENOMEM, or a negative errno from memfd/eventfd/mmap.
 */
int chan_create(struct client *c, uint32_t caps, struct chan **ret_chan);

/*
 * chan_attach() - put @ch on @d (NULL: CPU fallback in the library) and
 * publish it to @d's worker. Control thread. Returns 0 or -ENOMEM.
 */
int chan_attach(struct chan *ch, struct device *d);

/*
 * chan_detach() - unpublish @ch from its device, and wait until no worker
 * holds it; its in-flight copies still retire: destroy it only once
 * chan_drained(). chan_detach_async() does not wait: destroy it only once
 * chan_gone(). Control thread.
 */
void chan_detach(struct chan *ch);
void chan_detach_async(struct chan *ch);
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
