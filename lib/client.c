/* SPDX-License-Identifier: MIT */
/*
 * A client's life: connect and hello (which hands over the liveness page),
 * disconnect, and the events behind dmac_fd()/dmac_dispatch(). The messages
 * themselves are transport.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "internal.h"

_Static_assert((int)DMAC_EVENT_CHAN_MOVED == (int)DMAD_PROTO_EV_CHAN_MOVED, "event types map 1:1");
_Static_assert((int)DMAC_EVENT_CHAN_CPU == (int)DMAD_PROTO_EV_CHAN_CPU, "event types map 1:1");
_Static_assert((int)DMAC_EVENT_DEVICE_ADDED == (int)DMAD_PROTO_EV_DEV_ADDED, "event types map 1:1");
_Static_assert((int)DMAC_EVENT_SHUTDOWN == (int)DMAD_PROTO_EV_SHUTDOWN, "event types map 1:1");
_Static_assert((int)DMAC_EVENT_RESTARTED == (int)DMAD_PROTO_EV_RESTARTED, "event types map 1:1");
_Static_assert(sizeof(((struct dmac_event *)0)->to) == DMAD_PROTO_NAME_MAX, "name sizes");

/* What c->life reads before the daemon's page is mapped: alive. */
static const uint32_t life_unknown = DMAD_PROTO_LIFE_TID_MASK;

static void client_free(struct dmac_client *c)
{
	if (c->life != &life_unknown)
		munmap((void *)c->life, DMAD_PROTO_LIFE_SIZE);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->evfd >= 0)
		close(c->evfd);
	if (c->sock >= 0)
		close(c->sock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int client_open(struct dmac_client *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN};

	if (strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	strcpy(sa.sun_path, path);

	c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return -errno;
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return -ENODEV;
		return errno == EPERM ? -EACCES : -errno;
	}

	c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->evfd < 0)
		return -errno;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return -errno;
	ev.data.fd = c->sock;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->sock, &ev) < 0)
		return -errno;
	ev.data.fd = c->evfd;
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->evfd, &ev) < 0)
		return -errno;
	return 0;
}

DMAC_EXPORT int dmac_connect(const char *path, const char *name, struct dmac_client **ret_client)
{
	struct dmad_proto_hello_req req = {{0}};
	struct dmad_proto_hello_rep rep;
	struct dmac_client *c;
	int life_fd, r;
	void *life;

	if (!ret_client)
		return -EINVAL;
	if (!path)
		path = getenv(DMAD_PROTO_SOCKET_ENV);
	if (!path || !*path)
		path = DMAD_PROTO_SOCKET_DEFAULT;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->sock = c->evfd = c->epfd = -1;
	c->region_gen = 1;
	c->life = &life_unknown;
	c->restart_timeout_ns = DMAC_RESTART_TIMEOUT_NS;
	pthread_mutex_init(&c->lock, NULL);

	r = client_open(c, path);
	if (r < 0)
		goto fail;

	snprintf(req.name, sizeof(req.name), "%s", name ? name : program_invocation_short_name);
	r = __dmac_request(c, DMAD_PROTO_HELLO, &req, sizeof(req), -1, &rep, sizeof(rep), &life_fd,
			   1);
	if (r < 0)
		goto fail;
	/* Read-only: the daemon sealed the page against writable mappings. */
	life = mmap(NULL, DMAD_PROTO_LIFE_SIZE, PROT_READ, MAP_SHARED, life_fd, 0);
	close(life_fd);
	if (life == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	c->life = life;
	c->client_id = rep.client_id;
	c->copybreak = rep.copybreak;

	*ret_client = c;
	return 0;
fail:
	client_free(c);
	return r;
}

DMAC_EXPORT void dmac_disconnect(struct dmac_client *c)
{
	if (!c)
		return;
	while (c->rxs)
		dmac_rx_close(c->rxs);
	while (c->chans)
		dmac_chan_put(c->chans);
	/* No REGION_UNREG each: closing the socket returns them all. */
	__dmac_regions_free(c);
	client_free(c);
}

DMAC_EXPORT int dmac_set_restart_timeout(struct dmac_client *c, int timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	__atomic_store_n(&c->restart_timeout_ns, (uint64_t)timeout_ms * 1000000ull,
			 __ATOMIC_RELAXED);
	return 0;
}

DMAC_EXPORT int dmac_fd(struct dmac_client *c)
{
	return c->epfd;
}

DMAC_EXPORT void dmac_set_event_cb(struct dmac_client *c,
				   void (*cb)(const struct dmac_event *, void *), void *arg)
{
	c->event_cb = cb;
	c->event_arg = arg;
}

static void evq_deliver_one(struct dmac_client *c)
{
	struct dmad_proto_event copy, *pe = &copy;
	struct dmac_event ev;
	struct dmac_chan *ch = NULL;

	/* Off the queue before the callback, which may make requests that
	 * queue more; under the lock, as a channel thread in a restart may
	 * be queueing the RESTARTED event right now. */
	pthread_mutex_lock(&c->lock);
	copy = c->evq[c->evq_head];
	c->evq_head = (c->evq_head + 1) % DMAC_EVQ_LEN;
	c->evq_len--;
	pthread_mutex_unlock(&c->lock);
	ev = (struct dmac_event){.type = (enum dmac_event_type)pe->type, .stall_us = pe->stall_us};

	memcpy(ev.from, pe->from, sizeof(ev.from) - 1);
	memcpy(ev.to, pe->to, sizeof(ev.to) - 1);
	if (ev.type == DMAC_EVENT_CHAN_MOVED || ev.type == DMAC_EVENT_CHAN_CPU) {
		for (ch = c->chans; ch && ch->chan_id != pe->chan_id; ch = ch->next)
			;
		if (ch)
			memcpy(ch->device, ev.to, sizeof(ch->device));
	}
	ev.chan = ch;
	if (c->event_cb)
		c->event_cb(&ev, c->event_arg);
}

DMAC_EXPORT int dmac_dispatch(struct dmac_client *c)
{
	unsigned i, n;
	uint64_t v;

	__dmac_events_read(c);

	/* Reset before delivering: events queued from a callback raise it again. */
	(void)!read(c->evfd, &v, sizeof(v));
	n = __atomic_load_n(&c->evq_len, __ATOMIC_RELAXED);
	for (i = 0; i < n && __atomic_load_n(&c->evq_len, __ATOMIC_RELAXED) > 0; i++)
		evq_deliver_one(c);

	if (i == 0 && __dmac_client_dead(c))
		return -ENODEV;
	return (int)i;
}
