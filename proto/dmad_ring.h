/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory channel ring: the layout both the client library and the
 * daemon map, and the index/cookie arithmetic both sides rely on.
 *
 * One ring per client channel, in a memfd the daemon creates and passes to
 * the client. Single producer (one client thread), single consumer (one
 * daemon worker). Layout and constants only: nothing here allocates.
 */
#ifndef DMAD_RING_H
#define DMAD_RING_H

#include <stddef.h>
#include <stdint.h>

#define DMAD_PROTO_RING_MAGIC	0x52414d44u /* "DMAR" */
#define DMAD_PROTO_RING_VERSION 1u
#define DMAD_PROTO_CACHELINE	64

/* Submission queue size; a power of two so indices wrap with a mask. */
#define DMAD_PROTO_SQ_ENTRIES  1024u
#define DMAD_PROTO_ERR_ENTRIES 64u

/* Largest single descriptor: the descriptor's len field is 32 bits. */
#define DMAD_PROTO_MAX_LEN UINT32_MAX

enum dmad_proto_op {
	DMAD_PROTO_OP_COPY = 1,
	DMAD_PROTO_OP_FILL = 2,
};

/* Descriptor flags (dmad_proto_desc.flags). */
#define DMAD_PROTO_DF_FENCE	(1u << 0) /* land after every earlier copy */
#define DMAD_PROTO_DF_LLC	(1u << 1) /* write destination into the LLC */
#define DMAD_PROTO_DF_NO_STRIPE (1u << 2) /* one engine only (minor 8) */

/*
 * One submission. Offsets are relative to the client's registered regions,
 * never addresses: the daemon validates region id, offset and length against
 * its own record of the region before anything reaches an engine.
 */
struct dmad_proto_desc {
	uint8_t op;
	uint8_t flags;
	uint16_t src_region;
	uint32_t cookie;
	uint32_t len;
	uint16_t dst_region;
	uint16_t rsvd;
	uint64_t src_off; /* FILL: the 64-bit pattern */
	uint64_t dst_off;
};

/* A failed descriptor: status is a negative errno. */
struct dmad_proto_err {
	uint32_t cookie;
	int32_t status;
};

/* dmad_proto_ring.flags, written by the daemon. */
#define DMAD_PROTO_RF_NEED_WAKEUP (1u << 0) /* worker sleeps: ring the doorbell */
#define DMAD_PROTO_RF_CPU	  (1u << 1) /* no engine: the library copies */
#define DMAD_PROTO_RF_DEAD	  (1u << 2) /* daemon gone: nothing more completes */

/* dmad_proto_ring.client_flags, written by the client. */
#define DMAD_PROTO_CF_WAITING (1u << 0) /* client sleeps on futex(completed) */

/*
 * Producer and consumer state live on separate cache lines so the two sides
 * never write the same line; each side caches the other's index and re-reads
 * it only when the ring looks full or empty.
 */
struct dmad_proto_ring {
	/* Line 0: set by the daemon before the ring is handed out, then fixed. */
	uint32_t magic;
	uint32_t version;
	uint32_t sq_entries;
	uint32_t err_entries;
	uint32_t sq_offset;
	uint32_t err_offset;
	uint32_t size;
	uint32_t rsvd0;
	uint8_t pad0[DMAD_PROTO_CACHELINE - 8 * sizeof(uint32_t)];

	/* Line 1: written by the client. */
	uint32_t sq_tail;
	uint8_t pad1[DMAD_PROTO_CACHELINE - sizeof(uint32_t)];

	/* Line 2: written by the worker. */
	uint32_t sq_head;
	uint8_t pad2[DMAD_PROTO_CACHELINE - sizeof(uint32_t)];

	/* Line 3: written by the worker; the client polls it. */
	uint32_t completed; /* cookie of the last retired descriptor */
	uint32_t err_tail;  /* error records produced, free-running */
	uint8_t pad3[DMAD_PROTO_CACHELINE - 2 * sizeof(uint32_t)];

	/* Line 4: written by the daemon, rarely. */
	uint32_t flags;
	uint32_t copybreak;
	uint8_t pad4[DMAD_PROTO_CACHELINE - 2 * sizeof(uint32_t)];

	/* Line 5: written by the client, rarely. */
	uint32_t client_flags;
	uint32_t client_copybreak; /* the library's copybreak, for dmactl: untrusted */
	uint8_t pad5[DMAD_PROTO_CACHELINE - 2 * sizeof(uint32_t)];
};

_Static_assert(sizeof(struct dmad_proto_desc) == 32, "descriptor is 32 bytes");
_Static_assert(offsetof(struct dmad_proto_desc, cookie) == 4, "cookie offset");
_Static_assert(offsetof(struct dmad_proto_desc, len) == 8, "len offset");
_Static_assert(offsetof(struct dmad_proto_desc, dst_region) == 12, "dst_region offset");
_Static_assert(offsetof(struct dmad_proto_desc, src_off) == 16, "src_off offset");
_Static_assert(offsetof(struct dmad_proto_desc, dst_off) == 24, "dst_off offset");
_Static_assert(sizeof(struct dmad_proto_err) == 8, "error record is 8 bytes");
_Static_assert(offsetof(struct dmad_proto_ring, sq_tail) == 1 * DMAD_PROTO_CACHELINE, "tail line");
_Static_assert(offsetof(struct dmad_proto_ring, sq_head) == 2 * DMAD_PROTO_CACHELINE, "head line");
_Static_assert(offsetof(struct dmad_proto_ring, completed) == 3 * DMAD_PROTO_CACHELINE, "cpl line");
_Static_assert(offsetof(struct dmad_proto_ring, flags) == 4 * DMAD_PROTO_CACHELINE, "flags line");
_Static_assert(offsetof(struct dmad_proto_ring, client_flags) == 5 * DMAD_PROTO_CACHELINE,
	       "client flags line");
_Static_assert(offsetof(struct dmad_proto_ring, client_copybreak) ==
		       5 * DMAD_PROTO_CACHELINE + sizeof(uint32_t),
	       "client copybreak");
_Static_assert(sizeof(struct dmad_proto_ring) == 6 * DMAD_PROTO_CACHELINE, "ring header size");
_Static_assert((DMAD_PROTO_SQ_ENTRIES & (DMAD_PROTO_SQ_ENTRIES - 1)) == 0, "power of two");
_Static_assert((DMAD_PROTO_ERR_ENTRIES & (DMAD_PROTO_ERR_ENTRIES - 1)) == 0, "power of two");

/* Byte size of the whole ring memfd for the given geometry. */
static inline uint32_t dmad_proto_ring_size(uint32_t sq_entries, uint32_t err_entries)
{
	return (uint32_t)sizeof(struct dmad_proto_ring) +
	       sq_entries * (uint32_t)sizeof(struct dmad_proto_desc) +
	       err_entries * (uint32_t)sizeof(struct dmad_proto_err);
}

static inline struct dmad_proto_desc *dmad_proto_ring_sq(struct dmad_proto_ring *r)
{
	return (struct dmad_proto_desc *)((uint8_t *)r + r->sq_offset);
}

static inline struct dmad_proto_err *dmad_proto_ring_err(struct dmad_proto_ring *r)
{
	return (struct dmad_proto_err *)((uint8_t *)r + r->err_offset);
}

/* Entries in use between a free-running head and tail (wraps at 2^32). */
static inline uint32_t dmad_proto_ring_used(uint32_t head, uint32_t tail)
{
	return tail - head;
}

/*
 * Cookies are positive 31-bit sequence numbers per channel, 1..INT32_MAX,
 * wrapping back to 1 (0 means "nothing yet"; negative values are -errno).
 */
#define DMAD_PROTO_COOKIE_MIN 1u
#define DMAD_PROTO_COOKIE_MAX 0x7fffffffu

static inline uint32_t dmad_proto_cookie_next(uint32_t c)
{
	return c >= DMAD_PROTO_COOKIE_MAX ? DMAD_PROTO_COOKIE_MIN : c + 1;
}

/*
 * The kernel's dma_async_is_complete(): is @cookie at or before
 * @last_complete, given @last_used is the newest cookie handed out? Correct
 * across the wrap as long as fewer than 2^31 cookies are outstanding.
 */
static inline int dmad_proto_cookie_done(uint32_t cookie, uint32_t last_complete,
					 uint32_t last_used)
{
	if (last_complete <= last_used)
		return cookie <= last_complete || cookie > last_used;
	return cookie <= last_complete && cookie > last_used;
}

/*
 * The ring's two handshakes, written once for every side: the client
 * library and dmad's rx thread produce, a worker consumes and completes.
 * Each side keeps its own copy of its index and of the other's, re-reading
 * the other's only when the ring looks full (producer) or empty (consumer).
 * Geometry is always DMAD_PROTO_SQ_ENTRIES, never the shared header's.
 */

/*
 * Full barrier (StoreLoad), for the two wake-up handshakes below. On x86 an
 * mfence rather than the "lock or" to the stack GCC emits for a seq_cst
 * fence: the same ordering, and the client's fast path keeps its promise of
 * no locked instruction.
 */
static inline void dmad_ring_smp_mb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("mfence" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * Producer: free slots past @tail, re-reading sq_head only when fewer than
 * @want look free.
 */
static inline uint32_t dmad_ring_prod_space(const struct dmad_proto_ring *r, uint32_t tail,
					    uint32_t *cached_head, uint32_t want)
{
	if (DMAD_PROTO_SQ_ENTRIES - (tail - *cached_head) >= want)
		return DMAD_PROTO_SQ_ENTRIES - (tail - *cached_head);
	/* Acquire: the worker is done reading the slots it gave back. */
	*cached_head = __atomic_load_n(&r->sq_head, __ATOMIC_ACQUIRE);
	return DMAD_PROTO_SQ_ENTRIES - (tail - *cached_head);
}

static inline struct dmad_proto_desc *dmad_ring_prod_slot(struct dmad_proto_desc *sq, uint32_t tail)
{
	return &sq[tail & (DMAD_PROTO_SQ_ENTRIES - 1)];
}

/*
 * Producer: make the descriptors written up to @tail visible to the worker.
 * Returns whether the worker sleeps, so that the doorbell must ring.
 */
static inline int dmad_ring_prod_publish(struct dmad_proto_ring *r, uint32_t tail)
{
	/* Release: the descriptors are visible before the tail that covers them. */
	__atomic_store_n(&r->sq_tail, tail, __ATOMIC_RELEASE);
	/*
	 * Paired with dmad_ring_cons_sleep(): either the worker sees our tail
	 * when it looks again after raising NEED_WAKEUP, or we see the flag
	 * here (liburing's check of IORING_SQ_NEED_WAKEUP, in the same order).
	 */
	dmad_ring_smp_mb();
	return !!(__atomic_load_n(&r->flags, __ATOMIC_RELAXED) & DMAD_PROTO_RF_NEED_WAKEUP);
}

/* Consumer: descriptors published past @head (acquire: their contents too). */
static inline uint32_t dmad_ring_cons_avail(const struct dmad_proto_ring *r, uint32_t head)
{
	return __atomic_load_n(&r->sq_tail, __ATOMIC_ACQUIRE) - head;
}

/* Consumer: our copy of every slot before @head is taken; the client may reuse them. */
static inline void dmad_ring_cons_release(struct dmad_proto_ring *r, uint32_t head)
{
	__atomic_store_n(&r->sq_head, head, __ATOMIC_RELEASE);
}

/*
 * Consumer, about to sleep: raise NEED_WAKEUP in every ring it serves (the
 * control thread sets other bits of the same word, hence the atomic OR),
 * then call dmad_ring_cons_sleep_fence() once before looking at the tails
 * again, the other half of dmad_ring_prod_publish()'s handshake.
 */
static inline void dmad_ring_cons_need_wakeup(struct dmad_proto_ring *r, int on)
{
	if (on)
		__atomic_fetch_or(&r->flags, DMAD_PROTO_RF_NEED_WAKEUP, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&r->flags, ~DMAD_PROTO_RF_NEED_WAKEUP, __ATOMIC_RELAXED);
}

static inline void dmad_ring_cons_sleep_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Completer (the worker): publish @cookie as the last retired descriptor. */
static inline void dmad_ring_complete(struct dmad_proto_ring *r, uint32_t cookie)
{
	/* Release: the data (and any error record) is in place before the cookie. */
	__atomic_store_n(&r->completed, cookie, __ATOMIC_RELEASE);
}

/*
 * Completer, after dmad_ring_complete(): does a client sleep on the
 * completed word, so that it needs a futex wake? Paired with
 * dmad_ring_wait_prepare().
 */
static inline int dmad_ring_waiter_sleeps(const struct dmad_proto_ring *r)
{
	/* The completed store is visible before we look at the client's flag. */
	dmad_ring_smp_mb();
	return !!(__atomic_load_n(&r->client_flags, __ATOMIC_RELAXED) & DMAD_PROTO_CF_WAITING);
}

/*
 * Waiter (the client), about to sleep on the completed word: raise WAITING
 * (only the client writes client_flags), and return the completed value to
 * sleep on; if it already covers what is waited for, do not sleep. Either
 * the worker sees the flag after its store, or we see its store here.
 */
static inline uint32_t dmad_ring_wait_prepare(struct dmad_proto_ring *r)
{
	__atomic_store_n(&r->client_flags, r->client_flags | DMAD_PROTO_CF_WAITING,
			 __ATOMIC_RELAXED);
	dmad_ring_smp_mb();
	return __atomic_load_n(&r->completed, __ATOMIC_ACQUIRE);
}

static inline void dmad_ring_wait_done(struct dmad_proto_ring *r)
{
	__atomic_store_n(&r->client_flags, r->client_flags & ~DMAD_PROTO_CF_WAITING,
			 __ATOMIC_RELAXED);
}

#endif /* DMAD_RING_H */
