/* SPDX-License-Identifier: MIT */
/*
 * Receive flows: open one, map its receive area, and read the records the
 * daemon's rx thread publishes. The area's geometry is checked and copied
 * once at open, and every record is checked against it before a pointer
 * into the area is handed out, so a daemon that scribbles on the header
 * later cannot make the library read outside the mapping.
 *
 * Sleeping follows the channel's rule: the daemon signals the eventfd only
 * while the area says the client waits, so a busy flow costs neither side
 * a system call.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmad_rx.h"
#include "internal.h"

_Static_assert(sizeof(struct dmac_rx_stats) == offsetof(struct dmad_rx_stats, kernel_drops),
	       "stats map 1:1");
_Static_assert(DMAC_RX_UDP == DMAD_RX_UDP, "protocols map 1:1");

struct dmac_rx {
	/* Fast path. */
	struct dmad_rx_area *area;
	const struct dmad_rx_rec *rec;
	uint32_t mask;
	uint32_t head;	      /* next record to hand out; published on release */
	uint32_t cached_tail; /* area->tail as last read */
	bool armed;	      /* DMAD_RX_CF_WAITING is set */
	uint64_t data_offset;
	uint64_t size;
	uint32_t slot_size;

	/* Slow path. */
	struct dmac_client *client;
	uint32_t flow_id;
	uint32_t epoch; /* the client's rx_epoch at open: another means it ended */
	int efd;
	struct dmac_rx *next; /* client's list, so dmac_disconnect() can close it */
};

static bool is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Map and check the area; every field used later is copied from here. */
static int area_map(struct dmac_rx *rx, int fd, uint64_t size, const struct dmac_rx_spec *spec)
{
	struct dmad_rx_area *a;
	uint64_t recs_end, data_end;
	struct stat st;

	if (size < sizeof(*a) || size > (1ull << 32) || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_size < size)
		return -EPROTO;
	/* Populated: the daemon allocated every page; reading them costs no faults later. */
	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (a == MAP_FAILED)
		return -errno;
	rx->area = a;
	rx->size = size;
	if (a->magic != DMAD_RX_MAGIC || a->version != DMAD_RX_VERSION ||
	    a->slot_count != spec->slot_count || !is_pow2(a->slot_count) ||
	    a->slot_size != spec->slot_size || a->slot_stride < a->slot_size ||
	    a->rec_offset < sizeof(*a) || a->rec_offset % 8)
		return -EPROTO;
	recs_end = a->rec_offset + (uint64_t)a->slot_count * sizeof(struct dmad_rx_rec);
	data_end = a->data_offset + (uint64_t)a->slot_count * a->slot_stride;
	if (recs_end > a->data_offset || data_end > size)
		return -EPROTO;
	rx->rec = (const struct dmad_rx_rec *)((uint8_t *)a + a->rec_offset);
	rx->mask = a->slot_count - 1;
	rx->data_offset = a->data_offset;
	rx->slot_size = a->slot_size;
	/* Start where the area is rather than assume zero. */
	rx->head = __atomic_load_n(&a->head, __ATOMIC_RELAXED);
	rx->cached_tail = rx->head;
	return 0;
}

static void rx_free(struct dmac_rx *rx)
{
	struct dmac_rx **pp = &rx->client->rxs;

	while (*pp && *pp != rx)
		pp = &(*pp)->next;
	if (*pp)
		*pp = rx->next;
	if (rx->area)
		munmap(rx->area, rx->size);
	if (rx->efd >= 0)
		close(rx->efd);
	free(rx);
}

static void close_request(struct dmac_rx *rx)
{
	struct dmad_proto_rx_close_req req = {.flow_id = rx->flow_id};

	__dmac_request(rx->client, DMAD_PROTO_RX_CLOSE, &req, sizeof(req), -1, NULL, 0, NULL, 0);
}

DMAC_EXPORT int dmac_rx_open(struct dmac_client *c, const struct dmac_rx_spec *spec,
			     struct dmac_rx **ret_rx)
{
	struct dmad_proto_rx_open_req req = {0};
	struct dmad_proto_rx_open_rep rep;
	struct dmac_rx *rx;
	int fds[2], r;

	if (!spec || !ret_rx || !spec->ifname || spec->proto < 0 || spec->proto > 255 ||
	    (spec->flags & ~DMAC_RX_SET_COPYBREAK))
		return -EINVAL;
	if (strlen(spec->ifname) >= sizeof(req.ifname))
		return -ENXIO; /* no interface has a name that long */
	memcpy(req.ifname, spec->ifname, strlen(spec->ifname));
	req.queue = spec->queue;
	req.port = spec->port;
	req.proto = (uint8_t)spec->proto;
	req.slot_size = spec->slot_size;
	req.slot_count = spec->slot_count;
	if (spec->flags & DMAC_RX_SET_COPYBREAK) {
		req.flags = DMAD_RX_OPEN_F_COPYBREAK;
		req.copybreak = spec->copybreak;
	}

	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->client = c;
	rx->efd = -1;
	/* The epoch of the dmad that answered: one that restarted after a
	 * crash while this waited opened the flow itself (transport.c). */
	r = __dmac_request_epoch(c, DMAD_PROTO_RX_OPEN, &req, sizeof(req), -1, &rep, sizeof(rep),
				 fds, 2, &rx->epoch);
	if (r < 0) {
		free(rx);
		return r;
	}
	rx->flow_id = rep.flow_id;
	rx->efd = fds[1];
	/* The mapping keeps the area alive; its fd is not needed past this. */
	r = area_map(rx, fds[0], rep.area_size, spec);
	close(fds[0]);
	if (r < 0) {
		close_request(rx);
		rx_free(rx);
		return r;
	}
	rx->next = c->rxs;
	c->rxs = rx;
	*ret_rx = rx;
	return 0;
}

/* Set or clear the waiting flag; a full barrier orders setting it before the re-check. */
static void set_waiting(struct dmac_rx *rx, bool on)
{
	if (on) {
		__atomic_store_n(&rx->area->client_flags, DMAD_RX_CF_WAITING, __ATOMIC_RELAXED);
		/* Dekker with the rx thread: our flag before its tail, its tail before its look. */
		dmad_ring_smp_mb();
	} else {
		uint64_t v;

		__atomic_store_n(&rx->area->client_flags, 0, __ATOMIC_RELAXED);
		(void)!read(rx->efd, &v, sizeof(v)); /* reset: the wake-up is consumed */
	}
	rx->armed = on;
}

/* Records published past head, re-reading the tail only when it looks empty. */
static uint32_t avail(struct dmac_rx *rx)
{
	if (rx->cached_tail == rx->head)
		/* Acquire: the payload and record are in place once the tail covers them. */
		rx->cached_tail = __atomic_load_n(&rx->area->tail, __ATOMIC_ACQUIRE);
	/* A tail behind head or over a ring ahead is not one the daemon writes. */
	if (rx->cached_tail - rx->head > rx->mask + 1)
		rx->cached_tail = rx->head;
	return rx->cached_tail - rx->head;
}

static int fill(struct dmac_rx *rx, struct dmac_rx_pkt *pkts, unsigned max)
{
	uint32_t n = avail(rx), pos = rx->head;
	unsigned i = 0;

	for (; i < max && n; n--, pos++) {
		/* Copy out: the area is shared, and checked fields must stay checked. */
		struct dmad_rx_rec r = rx->rec[pos & rx->mask];

		if (r.flags & DMAD_RX_REC_ERROR) {
			if (i)
				break;	    /* hand out what precedes it first */
			rx->head = pos + 1; /* a dropped payload: its slot goes back at once */
			__atomic_store_n(&rx->area->head, rx->head, __ATOMIC_RELEASE);
			continue;
		}
		if (r.offset < rx->data_offset || r.len > rx->slot_size ||
		    (uint64_t)r.offset + r.len > rx->size)
			return -EPROTO;
		pkts[i++] = (struct dmac_rx_pkt){(uint8_t *)rx->area + r.offset, r.len, r.seq};
	}
	return (int)i;
}

DMAC_EXPORT int dmac_rx_peek(struct dmac_rx *rx, struct dmac_rx_pkt *pkts, unsigned max)
{
	int n = fill(rx, pkts, max);

	if (n != 0) {
		if (n > 0 && rx->armed)
			set_waiting(rx, false);
		return n;
	}
	if (!rx->armed) {
		set_waiting(rx, true);
		n = fill(rx, pkts, max);
		if (n != 0) {
			if (n > 0)
				set_waiting(rx, false);
			return n;
		}
	}
	if (__atomic_load_n(&rx->area->flags, __ATOMIC_ACQUIRE) & DMAD_RX_F_DEAD ||
	    __dmac_client_dead(rx->client) ||
	    __atomic_load_n(&rx->client->rx_epoch, __ATOMIC_ACQUIRE) != rx->epoch)
		return -ENODEV;
	return 0;
}

DMAC_EXPORT void dmac_rx_release(struct dmac_rx *rx, unsigned n)
{
	uint32_t pending = avail(rx);

	rx->head += n < pending ? n : pending;
	/* Release: we are done reading the slots before the daemon may refill them. */
	__atomic_store_n(&rx->area->head, rx->head, __ATOMIC_RELEASE);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until the eventfd fires, the daemon's socket hangs up, or @deadline. */
static int sleep_until(struct dmac_rx *rx, int64_t deadline)
{
	struct pollfd p[2] = {{.fd = rx->efd, .events = POLLIN}, {.fd = rx->client->sock}};
	int left = deadline < 0 ? -1 : (int)(deadline - now_ms());

	if (deadline >= 0 && left <= 0)
		return -ETIMEDOUT;
	if (poll(p, 2, left) < 0 && errno != EINTR)
		return -errno;
	if (p[1].revents & (POLLHUP | POLLERR)) {
		__dmac_client_mark_dead(rx->client);
		return -ENODEV;
	}
	return 0;
}

DMAC_EXPORT int dmac_rx_recv(struct dmac_rx *rx, void *buf, size_t len, uint32_t *ret_seq,
			     int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct dmac_rx_pkt p;
	int n;

	while ((n = dmac_rx_peek(rx, &p, 1)) == 0) {
		if (timeout_ms == 0)
			return -EAGAIN;
		n = sleep_until(rx, deadline);
		if (n < 0)
			return n;
	}
	if (n < 0)
		return n;
	memcpy(buf, p.data, p.len < len ? p.len : len);
	if (ret_seq)
		*ret_seq = p.seq;
	dmac_rx_release(rx, 1);
	return (int)p.len;
}

DMAC_EXPORT int dmac_rx_fd(const struct dmac_rx *rx)
{
	return rx->efd;
}

DMAC_EXPORT int dmac_rx_stats(const struct dmac_rx *rx, struct dmac_rx_stats *ret_stats)
{
	const struct dmad_rx_stats *s = &rx->area->stats;

	ret_stats->packets = __atomic_load_n(&s->packets, __ATOMIC_RELAXED);
	ret_stats->bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	ret_stats->drop_no_slot = __atomic_load_n(&s->drop_no_slot, __ATOMIC_RELAXED);
	ret_stats->drop_too_large = __atomic_load_n(&s->drop_too_large, __ATOMIC_RELAXED);
	ret_stats->drop_dma_error = __atomic_load_n(&s->drop_dma_error, __ATOMIC_RELAXED);
	ret_stats->dma_copies = __atomic_load_n(&s->dma_copies, __ATOMIC_RELAXED);
	ret_stats->cpu_copies = __atomic_load_n(&s->cpu_copies, __ATOMIC_RELAXED);
	return 0;
}

DMAC_EXPORT void dmac_rx_close(struct dmac_rx *rx)
{
	if (!rx)
		return;
	close_request(rx);
	rx_free(rx);
}
