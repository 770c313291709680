/* SPDX-License-Identifier: MIT */
/*
 * The rx thread of one AF_XDP socket: take datagrams off the RX ring, give
 * each payload a slot in its flow's receive area, and have the flow's DMA
 * channel copy it there (the CPU below copybreak, with no engine, or when
 * the channel's ring is full); a datagram over several buffers (AF_XDP
 * multi-buffer, jumbo MTUs) takes one descriptor per buffer. Records are
 * published in arrival order, each only once its copies have landed, and
 * only then do its UMEM frames go back to the fill ring: the kernel never
 * reuses a frame an engine still reads.
 *
 * Per flow this thread is the single producer of two rings: the channel's
 * submission queue (a worker consumes it) and the area's records (the
 * client consumes them).
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rx_ledger.h"
#include "rx_priv.h"

#define BATCH	256
#define RECYCLE 256
/* Crash-safe mode: a batch's frames wait in one buffer for its commit. */
_Static_assert(RECYCLE >= BATCH, "a batch's frames fit the recycle buffer");
/*
 * While a stream flows, an empty round naps before the next rather than
 * sleep until the next datagram: one wake-up of this thread and of the
 * client then serves every datagram of the nap, where sleeping in poll()
 * woke both once for every one or two (on this project's VM a switch is
 * the dominant cost: 3 us of rx thread a datagram at 64 B). As a NIC's
 * adaptive interrupt moderation does, the nap grows or shrinks so that
 * about NAP_BATCH descriptors wait for each wake-up, which bounds the
 * latency it adds to NAP_MAX_US; the RX ring holds tens of milliseconds.
 */
#define NAP_MIN_US 20
#define NAP_MAX_US 500
#define NAP_BATCH  64

/* Linux 6.6's AF_XDP multi-buffer, for older uapi headers. */
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif

/* Single writer; dmactl's reader loads them while we run. */
#define STAT_INC(x)    __atomic_store_n(&(x), (x) + 1, __ATOMIC_RELAXED)
#define STAT_ADD(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

struct recycle {
	unsigned n;
	uint64_t frame[RECYCLE];
};

static void flush(struct rx_sock *s, struct recycle *r)
{
	uint32_t idx = 0;

	if (!r->n)
		return;
	/* Always room: the fill ring holds every frame, and these are out of it. */
	while (xsk_ring_prod__reserve(&s->fq, r->n, &idx) != r->n)
		sched_yield();
	for (unsigned i = 0; i < r->n; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx + i) = r->frame[i];
	xsk_ring_prod__submit(&s->fq, r->n);
	r->n = 0;
	if (xsk_ring_prod__needs_wakeup(&s->fq))
		recvfrom(s->xsk_fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static void recycle(struct rx_sock *s, struct recycle *r, uint64_t frame)
{
	r->frame[r->n++] = frame;
	/* Crash-safe: only once the batch is committed (commit()). */
	if (r->n == RECYCLE && !dmad.crash_safe)
		flush(s, r);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The UDP datagram in an Ethernet frame, as the XDP program matched it: its
 * headers are in the first buffer (@len bytes), its payload may run on into
 * more (@total bytes in all). Destination port, payload offset and length
 * (from the UDP header, so Ethernet padding is left out). False for
 * anything else.
 */
static bool parse(const uint8_t *p, uint32_t len, uint32_t total, uint16_t *port, uint32_t *off,
		  uint32_t *plen)
{
	uint32_t l4;
	uint16_t ulen;

	if (len < ETH_HLEN)
		return false;
	switch (be16(p + 12)) {
	case ETH_P_IP: {
		/* Byte loads: after the 14-byte Ethernet header, nothing is aligned. */
		uint32_t ihl = p[ETH_HLEN] & 0xf;

		if (len < ETH_HLEN + sizeof(struct iphdr) || ihl < 5 ||
		    p[ETH_HLEN + offsetof(struct iphdr, protocol)] != IPPROTO_UDP)
			return false;
		l4 = ETH_HLEN + ihl * 4;
		break;
	}
	case ETH_P_IPV6:
		if (len < ETH_HLEN + sizeof(struct ipv6hdr) ||
		    p[ETH_HLEN + offsetof(struct ipv6hdr, nexthdr)] != IPPROTO_UDP)
			return false;
		l4 = ETH_HLEN + sizeof(struct ipv6hdr);
		break;
	default:
		return false;
	}
	if (l4 + sizeof(struct udphdr) > len)
		return false;
	ulen = be16(p + l4 + 4);
	if (ulen < sizeof(struct udphdr) || l4 + ulen > total)
		return false;
	*port = be16(p + l4 + 2);
	*off = l4 + sizeof(struct udphdr);
	*plen = ulen - sizeof(struct udphdr);
	return true;
}

static struct rx_flow *lookup(struct rx_sock *s, uint16_t port)
{
	/* A closing flow may share its port with the one that replaced it. */
	for (struct rx_flow *f = s->flows; f; f = f->snext)
		if (f->port == port && !f->closing)
			return f;
	return NULL;
}

/* A free slot, or false when the client holds every one. */
static bool slot_free(struct rx_flow *f)
{
	uint32_t head;

	if (f->tail - f->cached_head <= f->slot_mask)
		return true;
	/* Acquire: the client has read the slot before it says so. */
	head = __atomic_load_n(&f->area->head, __ATOMIC_ACQUIRE);
	/* A head past what was published, or too far behind, is a scribble: full. */
	if (f->published - head <= f->slot_mask + 1)
		f->cached_head = head;
	return f->tail - f->cached_head <= f->slot_mask;
}

/* Is the flow's channel on dmad's CPU engine? Read racily: for counters only. */
static bool on_cpu_engine(const struct rx_flow *f)
{
	return __atomic_load_n(&f->ch->dev, __ATOMIC_RELAXED) == dmad.cpu;
}

/* Room for @nseg descriptors on the channel, and an engine to take them. */
static bool dma_ok(struct rx_flow *f, uint32_t len, uint32_t nseg)
{
	struct dmad_proto_ring *ring = f->ch->ring;

	/* An empty datagram has nothing to copy, and no engine takes length 0. */
	if (!len || len < f->copybreak ||
	    (__atomic_load_n(&ring->flags, __ATOMIC_RELAXED) & DMAD_PROTO_RF_CPU))
		return false;
	return dmad_ring_prod_space(ring, f->sq_tail, &f->sq_head, nseg) >= nseg;
}

static void recycle_all(struct rx_sock *s, const struct rx_frags *fr, struct recycle *r)
{
	for (uint32_t i = 0; i < fr->n; i++)
		recycle(s, r, fr->addr[i]);
}

/* One descriptor per buffer the payload spans, all into one slot. */
static void copy_dma(struct rx_flow *f, const struct rx_frags *fr, uint32_t off, uint32_t len,
		     uint64_t dst)
{
	for (uint32_t i = 0; i < fr->n && len; i++, off = 0) {
		uint32_t n = fr->len[i] - off < len ? fr->len[i] - off : len;

		f->last_cookie = dmad_proto_cookie_next(f->last_cookie);
		*dmad_ring_prod_slot(f->ch->sq, f->sq_tail) = (struct dmad_proto_desc){
			.op = DMAD_PROTO_OP_COPY,
			.src_region = RX_REGION_UMEM,
			.cookie = f->last_cookie,
			.len = n,
			.dst_region = RX_REGION_AREA,
			.src_off = fr->addr[i] + off,
			.dst_off = dst,
		};
		f->sq_tail++;
		dst += n;
		len -= n;
	}
	/* Every frame stays ours until the last of these copies has completed. */
	for (uint32_t i = 0; i < fr->n; i++)
		f->hold[f->hold_tail++ & (RX_FRAMES - 1)] =
			(struct rx_hold){fr->addr[i], f->last_cookie};
}

static void copy_cpu(struct rx_sock *s, struct rx_flow *f, const struct rx_frags *fr, uint32_t off,
		     uint32_t len, uint64_t dst)
{
	for (uint32_t i = 0; i < fr->n && len; i++, off = 0) {
		uint32_t n = fr->len[i] - off < len ? fr->len[i] - off : len;

		memcpy(f->area_va + dst, s->umem_va + fr->addr[i] + off, n);
		dst += n;
		len -= n;
	}
}

static void take(struct rx_sock *s, struct rx_flow *f, const struct rx_frags *fr, uint32_t off,
		 uint32_t len, struct recycle *r)
{
	uint32_t slot, seq = ++f->seq;
	uint64_t dst;

	if (len > f->slot_size) {
		STAT_INC(f->st.drop_too_large);
		f->st_dropped = true;
		recycle_all(s, fr, r);
		return;
	}
	if (!slot_free(f)) {
		STAT_INC(f->st.drop_no_slot);
		f->st_dropped = true;
		recycle_all(s, fr, r);
		return;
	}
	slot = f->tail & f->slot_mask;
	dst = f->data_offset + (uint64_t)slot * f->stride;
	if (dma_ok(f, len, fr->n)) {
		copy_dma(f, fr, off, len, dst);
		f->pend[slot] = (struct rx_pending){f->last_cookie, len, seq};
		/* On dmad's CPU engine (no device left) the "DMA" is a memcpy. */
		if (on_cpu_engine(f))
			STAT_INC(f->st.cpu_copies);
		else
			STAT_INC(f->st.dma_copies);
	} else {
		/* In place at once, but published in order behind earlier copies. */
		copy_cpu(s, f, fr, off, len, dst);
		f->pend[slot] = (struct rx_pending){0, len, seq};
		STAT_INC(f->st.cpu_copies);
		recycle_all(s, fr, r);
	}
	f->tail++;
}

/* A whole datagram is off the RX ring: to its flow, or back to the fill ring. */
static void deliver(struct rx_sock *s, const struct rx_frags *fr, struct recycle *r)
{
	uint32_t off, len, total = 0;
	struct rx_flow *f;
	uint16_t port;

	for (uint32_t i = 0; i < fr->n; i++)
		total += fr->len[i];
	if (!fr->bad && fr->n &&
	    parse(s->umem_va + fr->addr[0], fr->len[0], total, &port, &off, &len) &&
	    (f = lookup(s, port))) {
		take(s, f, fr, off, len, r);
		return;
	}
	/* Its flow closed after the XDP program steered it here. */
	STAT_INC(s->unmatched);
	recycle_all(s, fr, r);
}

static unsigned receive(struct rx_sock *s, struct recycle *r)
{
	uint32_t idx = 0, n = xsk_ring_cons__peek(&s->rx, BATCH, &idx), whole = n;
	struct rx_frags *fr = &s->cur;

	/* Crash-safe: a batch of whole datagrams, committed before the next (commit()). */
	if (dmad.crash_safe) {
		while (whole &&
		       xsk_ring_cons__rx_desc(&s->rx, idx + whole - 1)->options & XDP_PKT_CONTD)
			whole--;
		if (whole != n)
			xsk_ring_cons__cancel(&s->rx, n - whole);
		n = whole;
		s->uncommitted = n;
	}

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);

		if (fr->bad || fr->n == RX_MAX_FRAGS || d->addr >= RX_UMEM_LEN ||
		    d->len > RX_UMEM_LEN - d->addr) {
			fr->bad = true;
			if (d->addr < RX_UMEM_LEN)
				recycle(s, r, d->addr);
		} else {
			fr->addr[fr->n] = d->addr;
			fr->len[fr->n++] = d->len;
		}
		/* More buffers of the same datagram follow (AF_XDP multi-buffer). */
		if (d->options & XDP_PKT_CONTD)
			continue;
		deliver(s, fr, r);
		fr->n = 0;
		fr->bad = false;
	}
	/* The descriptors are copied out; the frames stay ours until recycled. */
	if (n && !dmad.crash_safe)
		xsk_ring_cons__release(&s->rx, n);
	return n;
}

/* Hand the batch's descriptors to the worker; ring only if it sleeps. */
static void submit(struct rx_flow *f)
{
	struct dmad_proto_ring *ring = f->ch->ring;

	if (__atomic_load_n(&ring->sq_tail, __ATOMIC_RELAXED) == f->sq_tail)
		return;
	if (dmad_ring_prod_publish(ring, f->sq_tail)) {
		uint64_t one = 1;
		ssize_t w = write(f->ch->doorbell_fd, &one, sizeof(one));

		(void)w; /* saturated: the worker has a wake-up pending anyway */
	}
}

/*
 * Did a copy of the datagram whose last descriptor is @cookie fail? Error
 * records come in cookie order, like completions: take every one up to it.
 */
static bool failed(struct rx_flow *f, uint32_t cookie)
{
	uint32_t tail = __atomic_load_n(&f->ch->ring->err_tail, __ATOMIC_ACQUIRE);
	bool bad = false;

	while (f->err_head != tail) {
		uint32_t c = f->ch->err[f->err_head & (DMAD_PROTO_ERR_ENTRIES - 1)].cookie;

		if (!dmad_proto_cookie_done(c, cookie, f->last_cookie))
			break;
		bad = true;
		f->err_head++;
	}
	return bad;
}

/* The client sleeps only after setting its flag; then it needs the eventfd. */
static void wake_client(struct rx_flow *f)
{
	/* Dekker with the client: the new tail is visible before we read its flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&f->area->client_flags, __ATOMIC_RELAXED) & DMAD_RX_CF_WAITING) {
		uint64_t one = 1;
		ssize_t w = write(f->efd, &one, sizeof(one));

		(void)w;
	}
}

/* Publish, in order, every record whose copies have landed; free their frames. */
static unsigned reap(struct rx_sock *s, struct rx_flow *f, struct recycle *r)
{
	/* Acquire: the engine's writes are visible once the cookie says so. */
	uint32_t done = __atomic_load_n(&f->ch->ring->completed, __ATOMIC_ACQUIRE);
	/* Where area_map() put the records, never the header's rec_offset:
	 * the client maps the area writable, and could aim our writes anywhere. */
	struct dmad_rx_rec *rec = (struct dmad_rx_rec *)(f->area + 1);
	unsigned n = 0;
	bool show;

	for (; f->hold_head != f->hold_tail; f->hold_head++) {
		const struct rx_hold *h = &f->hold[f->hold_head & (RX_FRAMES - 1)];

		if (!dmad_proto_cookie_done(h->cookie, done, f->last_cookie))
			break;
		recycle(s, r, h->frame);
	}
	for (; f->published != f->tail; f->published++, n++) {
		uint32_t slot = f->published & f->slot_mask;
		const struct rx_pending *p = &f->pend[slot];
		uint32_t flags = 0;

		if (p->cookie) {
			if (!dmad_proto_cookie_done(p->cookie, done, f->last_cookie))
				break;
			if (failed(f, p->cookie))
				flags = DMAD_RX_REC_ERROR;
		}
		rec[slot] = (struct dmad_rx_rec){
			.offset = (uint32_t)(f->data_offset + (uint64_t)slot * f->stride),
			.len = flags ? 0 : p->len,
			.seq = p->seq,
			.flags = flags,
		};
		if (flags) {
			STAT_INC(f->st.drop_dma_error);
		} else {
			STAT_INC(f->st.packets);
			STAT_ADD(f->st.bytes, p->len);
		}
	}
	/* Crash-safe: the client sees them once the ledger has them (commit()). */
	show = n && !dmad.crash_safe;
	if (show)
		/* Release: records and payloads are in place before the tail says so. */
		__atomic_store_n(&f->area->tail, f->published, __ATOMIC_RELEASE);
	/* Drops too: while every slot waits for a copy, nothing is published. */
	if (n || f->st_dropped) {
		memcpy(&f->area->stats, &f->st, sizeof(f->st));
		f->st_dropped = false;
	}
	if (show)
		wake_client(f);
	if (f->closing && !f->drained && f->published == f->tail && f->hold_head == f->hold_tail)
		__atomic_store_n(&f->drained, 1, __ATOMIC_RELEASE);
	return n;
}

/*
 * Crash-safe mode, the batch taken off the RX ring all published or
 * dropped: the ledger, then the clients see it, then its frames go back
 * and the RX ring moves past it (the order rx_ledger.h relies on).
 */
static void commit(struct rx_sock *s, struct recycle *r)
{
	if (s->ledger)
		rx_ledger_commit(s, s->rx.cached_cons, r->n);
	for (struct rx_flow *f = s->flows; f; f = f->snext) {
		if (f->shown == f->published)
			continue;
		/* Release: records and payloads are in place before the tail says so. */
		__atomic_store_n(&f->area->tail, f->published, __ATOMIC_RELEASE);
		f->shown = f->published;
		wake_client(f);
	}
	flush(s, r);
	xsk_ring_cons__release(&s->rx, s->uncommitted);
	s->uncommitted = 0;
}

/* Nap, after adapting the nap to the @taken descriptors the last one brought. */
static void nap(unsigned *us, unsigned taken)
{
	struct timespec ts = {0};

	if (taken < NAP_BATCH / 2)
		*us = *us * 2 < NAP_MAX_US ? *us * 2 : NAP_MAX_US;
	else if (taken > NAP_BATCH * 2)
		*us = *us / 2 > NAP_MIN_US ? *us / 2 : NAP_MIN_US;
	ts.tv_nsec = (long)*us * 1000;
	nanosleep(&ts, NULL);
}

/* Nothing to do: sleep until a datagram arrives or the control thread kicks. */
static void sleep_idle(struct rx_sock *s)
{
	struct pollfd p[2] = {{.fd = s->xsk_fd, .events = POLLIN},
			      {.fd = s->kick_fd, .events = POLLIN}};
	uint64_t v;

	if (poll(p, 2, -1) > 0 && (p[1].revents & POLLIN)) {
		ssize_t rd = read(s->kick_fd, &v, sizeof(v));

		(void)rd;
	}
}

void *rx_thread_main(void *arg)
{
	struct rx_sock *s = arg;
	struct recycle r = {0};
	unsigned nap_us = NAP_MIN_US, taken = 0;
	bool streaming = false;

	for (;;) {
		unsigned work;
		bool inflight = false;

		pthread_mutex_lock(&s->lock);
		if (s->stop) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		/* Quiescing for a restart: the datagram half taken is finished, no other started.
		 * Crash-safe: one batch at a time.
		 */
		work = (!s->quiesce || s->cur.n) && !s->uncommitted ? receive(s, &r) : 0;
		taken += work;
		for (struct rx_flow *f = s->flows; f; f = f->snext)
			submit(f);
		for (struct rx_flow *f = s->flows; f; f = f->snext) {
			work += reap(s, f, &r);
			inflight |= f->published != f->tail || f->hold_head != f->hold_tail;
		}
		if (!dmad.crash_safe)
			flush(s, &r);
		else if (s->uncommitted && !inflight)
			commit(s, &r);
		if (s->quiesce && !inflight && !s->cur.n && !s->uncommitted) {
			/* Every record published, every frame back in the fill ring. */
			__atomic_store_n(&s->quiesced, 1, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_unlock(&s->lock);

		if (work) {
			streaming = true;
			continue;
		}
		if (inflight) {
			sched_yield(); /* copies on an engine: they land in microseconds */
		} else if (streaming) {
			/* Once: a nap that brought nothing means the stream paused. */
			streaming = false;
			nap(&nap_us, taken);
			taken = 0;
		} else {
			sleep_idle(s);
		}
	}
	return NULL;
}
