/* SPDX-License-Identifier: MIT */
/*
 * The rings a restart handed over, served by the CPU from the moment the
 * state is read until the workers take them (handover_bridge.h). The loop
 * is a worker's in small: copy each descriptor out, validate it against
 * this bridge's own mapping of the client's regions, execute it, publish
 * the error record and the cookie in ring order, wake a client that
 * sleeps. Everything it does completes before the next descriptor is
 * taken, so fences hold by construction and nothing is in flight when it
 * stops. Its mappings are its own (the restore maps the regions again for
 * the engines), so that nothing here depends on EAL.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "handover_bridge.h"
#include "log.h"
#include "validate.h"

/* Descriptors one ring gives per pass, so that every ring gets its turn. */
#define BURST 32

struct bridge_chan {
	uint32_t rec; /* the state's channel record */
	struct dmad_proto_ring *ring;
	struct dmad_proto_desc *sq;
	struct dmad_proto_err *err; /* from our geometry, never the shared header */
	const struct region_table *regions;
	uint32_t head, err_tail;
	uint64_t ops, bytes, errors;
	bool faulted;
};

struct handover_bridge {
	pthread_t thread;
	int epfd, stop_fd;
	uint32_t nchans, nclients, nregions;
	struct bridge_chan *chans;
	struct region_table **tables; /* per client record; NULL: not served */
	struct region_view *views;    /* per region record; va NULL: not mapped */
	uint64_t served_ns;	      /* the first pass began */
	bool running;		      /* the thread was started */
	bool stop;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wake_waiter(struct bridge_chan *c)
{
	if (dmad_ring_waiter_sleeps(c->ring))
		syscall(SYS_futex, &c->ring->completed, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* One pass over @c, as worker_poll_chan() and retire() do it. Returns the
 * descriptors taken. */
static unsigned serve(struct bridge_chan *c)
{
	uint32_t avail, i;

	if (c->faulted)
		return 0;
	avail = dmad_ring_cons_avail(c->ring, c->head);
	if (avail > DMAD_PROTO_SQ_ENTRIES) {
		/* Left as it is: the worker that takes the ring over faults it. */
		c->faulted = true;
		return 0;
	}
	for (i = 0; i < avail && i < BURST; i++) {
		/* Copy out first: the client may rewrite the slot at any moment. */
		struct dmad_proto_desc desc = c->sq[c->head & (DMAD_PROTO_SQ_ENTRIES - 1)];
		struct xfer x;
		int ret = validate_desc(&desc, c->regions, &x);

		if (ret < 0) {
			c->err[c->err_tail & (DMAD_PROTO_ERR_ENTRIES - 1)] =
				(struct dmad_proto_err){desc.cookie, ret};
			c->err_tail++;
			/* The record is written before the client can see the new tail. */
			__atomic_store_n(&c->ring->err_tail, c->err_tail, __ATOMIC_RELEASE);
			c->errors++;
		} else {
			engine_cpu_exec(&x);
			c->ops++;
			c->bytes += desc.len;
		}
		c->head++;
		dmad_ring_cons_release(c->ring, c->head);
		dmad_ring_complete(c->ring, desc.cookie);
	}
	if (i)
		wake_waiter(c);
	return i;
}

static void need_wakeup(struct handover_bridge *b, bool on)
{
	for (uint32_t i = 0; i < b->nchans; i++)
		dmad_ring_cons_need_wakeup(b->chans[i].ring, on);
}

static unsigned serve_all(struct handover_bridge *b)
{
	unsigned work = 0;

	for (uint32_t i = 0; i < b->nchans; i++)
		work += serve(&b->chans[i]);
	return work;
}

static void *bridge_main(void *arg)
{
	struct handover_bridge *b = arg;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		struct epoll_event ev[8];

		if (serve_all(b))
			continue;
		/* Sleep as a worker does: raise NEED_WAKEUP, then look once more. */
		need_wakeup(b, true);
		dmad_ring_cons_sleep_fence();
		if (!serve_all(b))
			epoll_wait(b->epfd, ev, 8, -1);
		need_wakeup(b, false);
	}
	/* A client publishing before a worker has the ring rings the doorbell,
	 * which the worker watches from when it takes the channel. */
	need_wakeup(b, true);
	return NULL;
}

static int map_region(struct region_view *rv, const struct handover_region *hr, int fd)
{
	struct stat st;
	void *va;

	/* handover_state_check_fds() saw the shrink seal; the length it did not. */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < hr->len)
		return -EINVAL;
	va = mmap(NULL, (size_t)hr->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED)
		return -errno;
	*rv = (struct region_view){.va = va, .len = hr->len, .iova = (uintptr_t)va};
	return 0;
}

/* Each client's region table, from the state's region records; a client
 * with a region that cannot be mapped gets none (its channels wait). */
static int map_regions(struct handover_bridge *b, const struct handover_view *v)
{
	uint32_t *max_id = calloc(v->h->nclients + 1, sizeof(*max_id));
	bool *bad = calloc(v->h->nclients + 1, sizeof(*bad));
	int ret = max_id && bad ? 0 : -ENOMEM;

	for (uint32_t i = 0; !ret && i < v->h->nregions; i++) {
		const struct handover_region *hr = &v->regions[i];

		max_id[hr->client] =
			hr->id + 1 > max_id[hr->client] ? hr->id + 1 : max_id[hr->client];
		if (map_region(&b->views[i], hr, v->fds[hr->fd].fd) < 0)
			bad[hr->client] = true;
	}
	for (uint32_t c = 0; !ret && c < v->h->nclients; c++) {
		struct region_table *t;

		if (bad[c])
			continue;
		t = calloc(1, sizeof(*t) + max_id[c] * sizeof(t->slot[0]));
		if (!t) {
			ret = -ENOMEM;
			break;
		}
		t->n = max_id[c];
		b->tables[c] = t;
	}
	for (uint32_t i = 0; !ret && i < v->h->nregions; i++) {
		const struct handover_region *hr = &v->regions[i];

		if (b->tables[hr->client])
			b->tables[hr->client]->slot[hr->id] = &b->views[i];
	}
	free(max_id);
	free(bad);
	return ret;
}

static void unmap_all(struct handover_bridge *b)
{
	uint32_t ring_size = dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES);

	for (uint32_t i = 0; i < b->nchans; i++)
		munmap(b->chans[i].ring, ring_size);
	for (uint32_t i = 0; b->views && i < b->nregions; i++)
		if (b->views[i].va)
			munmap(b->views[i].va, (size_t)b->views[i].len);
	for (uint32_t c = 0; b->tables && c < b->nclients; c++)
		free(b->tables[c]);
	free(b->tables);
	free(b->views);
	free(b->chans);
	if (b->epfd >= 0)
		close(b->epfd);
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	free(b);
}

/* Map @hc's ring and watch its doorbell; false leaves it to the workers. */
static bool add_chan(struct handover_bridge *b, const struct handover_view *v, uint32_t rec,
		     const bool *serve)
{
	uint32_t ring_size = dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES);
	const struct handover_chan *hc = &v->chans[rec];
	struct bridge_chan *c = &b->chans[b->nchans];
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	void *ring;

	if (!(hc->flags & HANDOVER_CHAN_ENGINE) || !serve[hc->client] || !b->tables[hc->client])
		return false;
	/* handover_state_check_fds() checked its size and seals. */
	ring = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fds[hc->ring].fd, 0);
	if (ring == MAP_FAILED)
		return false;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, v->fds[hc->doorbell].fd, &ev) < 0) {
		munmap(ring, ring_size);
		return false;
	}
	*c = (struct bridge_chan){
		.rec = rec,
		.ring = ring,
		.sq = (struct dmad_proto_desc *)((uint8_t *)ring + sizeof(struct dmad_proto_ring)),
		.regions = b->tables[hc->client],
		.head = hc->head,
		.err_tail = hc->err_tail};
	c->err = (struct dmad_proto_err *)(c->sq + DMAD_PROTO_SQ_ENTRIES);
	/* Our own count, never the ring's, which the client can write. */
	__atomic_store_n(&c->ring->err_tail, c->err_tail, __ATOMIC_RELEASE);
	dmad_ring_cons_release(c->ring, c->head);
	b->nchans++;
	return true;
}

struct handover_bridge *handover_bridge_start(const struct handover_view *v, const bool *serve)
{
	struct handover_bridge *b = calloc(1, sizeof(*b));
	struct epoll_event ev = {.events = EPOLLIN};
	int ret = -ENOMEM;

	if (!b)
		goto fail;
	b->epfd = b->stop_fd = -1;
	b->nclients = v->h->nclients;
	b->nregions = v->h->nregions;
	b->tables = calloc(b->nclients + 1, sizeof(*b->tables));
	b->views = calloc(b->nregions + 1, sizeof(*b->views));
	b->chans = calloc(v->h->nchans + 1, sizeof(*b->chans));
	if (!b->tables || !b->views || !b->chans)
		goto fail_free;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->epfd < 0 || b->stop_fd < 0 ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->stop_fd, &ev) < 0) {
		ret = -errno;
		goto fail_free;
	}
	ret = map_regions(b, v);
	if (ret < 0)
		goto fail_free;
	for (uint32_t i = 0; i < v->h->nchans; i++)
		add_chan(b, v, i, serve);
	if (!b->nchans) {
		unmap_all(b);
		return NULL;
	}
	/* The first pass here: on a busy machine a new thread may wait for a
	 * CPU, and what the clients queued during the exec is served now. */
	b->served_ns = now_ns();
	serve_all(b);
	ret = -pthread_create(&b->thread, NULL, bridge_main, b);
	if (ret < 0) {
		/* Kept all the same: where the first pass left each ring goes to the workers. */
		log_warning_errno(ret, "cannot serve the handed-over rings before the engines "
				       "are up, past what was queued: %m");
		return b;
	}
	b->running = true;
	pthread_setname_np(b->thread, "dmad-bridge");
	return b;

fail_free:
	unmap_all(b);
fail:
	log_warning_errno(ret, "cannot serve the handed-over rings before the engines are up: %m");
	return NULL;
}

uint64_t handover_bridge_stop(struct handover_bridge *b, struct handover_chan *chans,
			      uint32_t nchans, uint64_t *ret_descs)
{
	uint64_t served;

	*ret_descs = 0;
	if (!b)
		return 0;
	__atomic_store_n(&b->stop, true, __ATOMIC_RELEASE);
	if (eventfd_write(b->stop_fd, 1) < 0)
		log_warning_errno(-errno, "cannot wake the handover bridge: %m");
	if (b->running)
		pthread_join(b->thread, NULL);
	else
		need_wakeup(b, true); /* as the thread leaves them */
	for (uint32_t i = 0; i < b->nchans; i++) {
		const struct bridge_chan *c = &b->chans[i];
		struct handover_chan *hc = &chans[c->rec];

		if (c->rec >= nchans)
			continue;
		*ret_descs += c->head - hc->head;
		hc->head = c->head;
		hc->err_tail = c->err_tail;
		hc->ops += c->ops;
		hc->bytes += c->bytes;
		hc->errors += c->errors;
	}
	served = b->served_ns;
	unmap_all(b);
	return served;
}
