/* SPDX-License-Identifier: MIT */
/*
 * Striping: one large copy split across every usable engine of the worker
 * that serves its channel, so that it takes 1/N of the time.
 *
 * The copy keeps one fifo entry on its channel's engine, the gate, in its
 * ring order; each part is an entry on the fifo of the engine that copies
 * it, written before the gate (the channel's own engine's part) or on
 * another fifo. A part is accounted for as soon as its engine completes it,
 * in or out of its fifo's order, so that no gate ever waits on an entry
 * that waits on it; the gate retires, and completes the cookie, only once
 * every part is done, and nothing behind it on its fifo retires earlier:
 * the channel's completion word never passes an unfinished part.
 *
 * A part's engine that fails is recovered as any other (worker.c): the
 * parts it completed stay done, the rest are redone by the CPU. A device
 * being removed takes no new parts (device.stripe_off, then a grace period).
 *
 * Only copies are split; a fenced copy never is, and a fenced op waits
 * until every earlier striped copy of its channel is done.
 *
 * Worker side, the owning worker of every device involved; stripe_min_default()
 * is the control thread's.
 */
#ifndef DMAD_STRIPE_H
#define DMAD_STRIPE_H

#include "daemon.h"
#include "validate.h"

/* Parts are split on this boundary: no part starts inside a cache line. */
#define STRIPE_ALIGN 64u

/*
 * stripe_copy() - split the validated copy @x, cookie @cookie of @ch, over
 * @d (the channel's engine) and the other usable engines of its worker.
 * Returns how many entries of @d's fifo it took (1 or 2: its gate, last,
 * and @d's own part) when it took the copy, 0 when it did not split it (one usable engine, or an
 * engine refused the first part for a reason the ordinary path reports), or -ENOSPC / -EBUSY to
 * retry later (nothing taken).
 */
int stripe_copy(struct device *d, struct chan *ch, const struct xfer *x, uint32_t cookie);

/*
 * stripe_retire() - @e, a non-INFLIGHT_OP entry at the head of @d's fifo,
 * leaves it. Returns true when that is all (a part), false when it is a
 * gate whose copy now completes as an ordinary op.
 */
bool stripe_retire(struct device *d, struct inflight *e);

/*
 * stripe_reap_ahead() - the head of @d's fifo is a gate still waiting: @n
 * completions of @d's engine (@ok[i]: the i-th succeeded), and any others
 * it has, belong to entries behind it. Account for them now.
 */
void stripe_reap_ahead(struct device *d, const bool *ok, unsigned n);

/*
 * stripe_redo_ahead() - the same on a stopped engine: redo with the CPU
 * what it holds behind the waiting gate at its head.
 */
void stripe_redo_ahead(struct device *d);

/*
 * stripe_min_default() - the smallest copy worth splitting, from the
 * calibrated copybreak @copybreak (bytes).
 */
uint64_t stripe_min_default(uint32_t copybreak);

#endif /* DMAD_STRIPE_H */
