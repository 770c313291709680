/* SPDX-License-Identifier: MIT */
/*
 * The fast path. One producer (the channel's thread) and one consumer (a
 * daemon worker) share the ring, so plain loads and stores with
 * acquire/release ordering suffice: no lock, no atomic read-modify-write, no
 * allocation, and no system call except the doorbell when the worker sleeps
 * and one poll() when the ring is full.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum { VIA_CPU, VIA_RING };

/* Turn [p, p+len) into {region id, offset}; the channel's last hit first. */
static inline int resolve(struct dmac_chan *ch, struct dmac_region_hit *hit, uintptr_t p,
			  size_t len, uint16_t *ret_id, uint64_t *ret_off)
{
	if (hit->gen != ch->client->region_gen || p - hit->addr >= hit->len ||
	    len > hit->len - (p - hit->addr)) {
		const struct dmac_region *r = __dmac_region_lookup(ch->client, p, len);

		if (!r)
			return -EINVAL;
		*hit = (struct dmac_region_hit){r->addr, r->len, ch->client->region_gen, r->id};
	}
	*ret_id = hit->id;
	*ret_off = p - hit->addr;
	return 0;
}

static inline int route(struct dmac_chan *ch, size_t len, unsigned flags)
{
	/* Relaxed: the flags only pick a path; nothing is read under them. */
	uint32_t rf = __atomic_load_n(&ch->ring->flags, __ATOMIC_RELAXED);

	if ((rf & DMAD_PROTO_RF_DEAD) || __dmac_client_dead(ch->client))
		return -ENODEV;
	if (len >= ch->copybreak && !(rf & DMAD_PROTO_RF_CPU))
		return VIA_RING;
	/*
	 * A fenced op must land after the ring work queued before it: while
	 * some is outstanding, queue behind it (on a CPU channel no worker
	 * reads the ring any more: retry once it has drained). Acquire: once
	 * it is all done, the engine's writes are visible before the CPU copy
	 * touches memory.
	 */
	if ((flags & DMAC_FENCE) &&
	    __atomic_load_n(&ch->ring->completed, __ATOMIC_ACQUIRE) != ch->dev_last)
		return (rf & DMAD_PROTO_RF_CPU) ? -EAGAIN : VIA_RING;
	return VIA_CPU;
}

/* No ring descriptor: it completes when the ring work before it does. */
static inline dmac_cookie_t cpu_done(struct dmac_chan *ch)
{
	ch->last_used = dmad_proto_cookie_next(ch->last_used);
	return (dmac_cookie_t)ch->last_used;
}

static __attribute__((noinline)) int sq_full(struct dmac_chan *ch)
{
	int r;

	if (dmad_ring_prod_space(ch->ring, ch->tail, &ch->cached_head, 1))
		return 0;
	/* A ring full of unpublished descriptors would never drain. */
	dmac_issue_pending(ch);
	r = __dmac_client_check_alive(ch->client);
	return r < 0 ? r : -EAGAIN;
}

static inline dmac_cookie_t sq_push(struct dmac_chan *ch, struct dmad_proto_desc *d)
{
	if (ch->tail - ch->cached_head >= DMAD_PROTO_SQ_ENTRIES) {
		int r = sq_full(ch);

		if (r < 0)
			return r;
	}
	d->cookie = dmad_proto_cookie_next(ch->last_used);
	/* Published by dmac_issue_pending(), not here: batching is the point. */
	*dmad_ring_prod_slot(ch->sq, ch->tail) = *d;
	ch->tail++;
	ch->dev_last = ch->last_used = d->cookie;
	return (dmac_cookie_t)d->cookie;
}

DMAC_EXPORT dmac_cookie_t dmac_memcpy(struct dmac_chan *ch, void *dst, const void *src, size_t len,
				      unsigned flags)
{
	struct dmad_proto_desc d = {.op = DMAD_PROTO_OP_COPY, .flags = (uint8_t)flags};
	uintptr_t s = (uintptr_t)src, t = (uintptr_t)dst;
	int r;

	if (len == 0 || len > DMAD_PROTO_MAX_LEN || (flags & ~DMAC_SUBMIT_FLAGS))
		return -EINVAL;
	if (resolve(ch, &ch->src_hit, s, len, &d.src_region, &d.src_off) < 0 ||
	    resolve(ch, &ch->dst_hit, t, len, &d.dst_region, &d.dst_off) < 0 ||
	    (s < t + len && t < s + len))
		return -EINVAL;
	d.len = (uint32_t)len;
	r = route(ch, len, flags);
	if (r == VIA_RING)
		return sq_push(ch, &d);
	if (r < 0)
		return r;
	memcpy(dst, src, len);
	return cpu_done(ch);
}

DMAC_EXPORT dmac_cookie_t dmac_fill(struct dmac_chan *ch, void *dst, uint64_t pattern, size_t len,
				    unsigned flags)
{
	struct dmad_proto_desc d = {.op = DMAD_PROTO_OP_FILL, .flags = (uint8_t)flags};
	uint8_t *p = dst;
	size_t i;
	int r;

	if (len == 0 || len > DMAD_PROTO_MAX_LEN || (flags & ~DMAC_SUBMIT_FLAGS))
		return -EINVAL;
	if (resolve(ch, &ch->dst_hit, (uintptr_t)dst, len, &d.dst_region, &d.dst_off) < 0)
		return -EINVAL;
	d.len = (uint32_t)len;
	d.src_off = pattern;
	r = route(ch, len, flags);
	if (r == VIA_RING)
		return sq_push(ch, &d);
	if (r < 0)
		return r;
	/* Byte i gets byte i % 8 of the pattern as it lies in memory. */
	for (i = 0; i + sizeof(pattern) <= len; i += sizeof(pattern))
		memcpy(p + i, &pattern, sizeof(pattern));
	memcpy(p + i, &pattern, len - i);
	return cpu_done(ch);
}

DMAC_EXPORT void dmac_issue_pending(struct dmac_chan *ch)
{
	static const uint64_t one = 1;

	if (ch->tail == ch->published)
		return;
	ch->published = ch->tail;
	if (dmad_ring_prod_publish(ch->ring, ch->tail))
		/* Fails only when the counter is saturated: the worker is woken anyway. */
		(void)!write(ch->doorbell, &one, sizeof(one));
}

/* Only the last err_entries failures are remembered; older ones read as complete. */
static bool err_find(const struct dmac_chan *ch, uint32_t cookie, uint32_t tail)
{
	uint32_t i = tail - (tail < ch->err_entries ? tail : ch->err_entries);

	for (; i != tail; i++)
		if (__atomic_load_n(&ch->err[i & (ch->err_entries - 1)].cookie, __ATOMIC_RELAXED) ==
		    cookie)
			return true;
	return false;
}

/* dmac_is_complete() as the ring says, whether or not the daemon still lives. */
enum dmac_status __dmac_chan_status(struct dmac_chan *ch, dmac_cookie_t cookie)
{
	uint32_t done, nerr;

	if (cookie < 0)
		return DMAC_ERROR;
	/* Acquire: a copy's data is visible once its cookie is. */
	done = __atomic_load_n(&ch->ring->completed, __ATOMIC_ACQUIRE);
	/*
	 * Ring drained: the CPU cookies after its last descriptor are done too,
	 * and stay done once ring work is queued behind them (done_floor), so
	 * that no cookie ever goes from complete back to in progress.
	 */
	if (done == ch->dev_last)
		done = ch->done_floor = ch->last_used;
	else if (dmad_proto_cookie_done(done, ch->done_floor, ch->last_used))
		done = ch->done_floor;
	if (!dmad_proto_cookie_done((uint32_t)cookie, done, ch->last_used))
		return DMAC_IN_PROGRESS;
	/* Acquire: the worker writes a record before moving err_tail past it. */
	nerr = __atomic_load_n(&ch->ring->err_tail, __ATOMIC_ACQUIRE);
	if (nerr == 0 || !err_find(ch, (uint32_t)cookie, nerr))
		return DMAC_COMPLETE;
	return DMAC_ERROR;
}

DMAC_EXPORT enum dmac_status dmac_is_complete(struct dmac_chan *ch, dmac_cookie_t cookie)
{
	enum dmac_status s = __dmac_chan_status(ch, cookie);

	/* Nothing more completes once the daemon stopped or died: say so. */
	if (s == DMAC_IN_PROGRESS && __dmac_chan_gone(ch))
		return DMAC_ERROR;
	return s;
}
