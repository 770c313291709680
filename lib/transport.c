/* SPDX-License-Identifier: MIT */
/*
 * The control connection's messages: request/reply over the SOCK_SEQPACKET
 * socket with SCM_RIGHTS, telling "busy" from "gone", and queueing events.
 *
 * Events may arrive at any time, also while a request waits for its reply;
 * those are queued here and an eventfd is raised, so that dmac_fd() (an epoll
 * fd over the socket and that eventfd) stays readable until they are
 * dispatched even though the socket itself has been drained.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "internal.h"

/* Bodies this library reads are small; longer ones are read truncated. */
#define MSG_BODY_MAX 256
/* Room for more fds than the protocol sends, so extras can be closed. */
#define MSG_FDS_MAX (DMAD_PROTO_FDS_MAX + 2)

struct msg {
	struct dmad_proto_hdr hdr;
	union {
		struct dmad_proto_event event;
		uint8_t raw[MSG_BODY_MAX];
	} body;
	size_t body_len; /* received, at most hdr.len */
	int fds[MSG_FDS_MAX];
	unsigned nfds;
};

void __dmac_client_mark_dead(struct dmac_client *c)
{
	__atomic_store_n(&c->dead, true, __ATOMIC_RELAXED);
}

/* Tells "busy" from "gone" without reading anything off the socket. */
int __dmac_client_check_alive(struct dmac_client *c)
{
	struct pollfd p = {.fd = c->sock};

	if (__dmac_client_dead(c))
		return -ENODEV;
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
		__dmac_client_mark_dead(c);
		return -ENODEV;
	}
	return 0;
}

static int conn_errno(struct dmac_client *c, int err)
{
	if (err == ECONNRESET || err == EPIPE || err == ENOTCONN) {
		__dmac_client_mark_dead(c);
		return -ENODEV;
	}
	return -err;
}

static void msg_close_fds(struct msg *m)
{
	while (m->nfds > 0)
		close(m->fds[--m->nfds]);
}

static void msg_take_fds(struct msg *m, struct msghdr *mh)
{
	struct cmsghdr *cm;

	m->nfds = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t i, n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (m->nfds < MSG_FDS_MAX)
				m->fds[m->nfds++] = fd;
			else
				close(fd);
		}
	}
}

/* Returns 0, -EAGAIN (MSG_DONTWAIT and nothing queued), -ENODEV, -EPROTO. */
static int msg_recv(struct dmac_client *c, struct msg *m, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(MSG_FDS_MAX * sizeof(int))];
	} ctl;
	struct iovec iov[2] = {
		{.iov_base = &m->hdr, .iov_len = sizeof(m->hdr)},
		{.iov_base = &m->body, .iov_len = sizeof(m->body)},
	};
	struct msghdr mh = {
		.msg_iov = iov,
		.msg_iovlen = 2,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	/* Not the liveness page: what dmad sent before it died is still to read. */
	if (__atomic_load_n(&c->dead, __ATOMIC_RELAXED))
		return -ENODEV;
	do
		n = recvmsg(c->sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : conn_errno(c, errno);
	if (n == 0) {
		__dmac_client_mark_dead(c);
		return -ENODEV;
	}
	msg_take_fds(m, &mh);
	if ((size_t)n < sizeof(m->hdr) || m->hdr.magic != DMAD_PROTO_MAGIC ||
	    m->hdr.major != DMAD_PROTO_VERSION_MAJOR) {
		msg_close_fds(m);
		return -EPROTO;
	}
	m->body_len = (size_t)n - sizeof(m->hdr);
	if (m->body_len > m->hdr.len)
		m->body_len = m->hdr.len;
	return 0;
}

static void evq_push(struct dmac_client *c, const struct dmad_proto_event *ev)
{
	static const uint64_t one = 1;

	if (ev->type < DMAD_PROTO_EV_CHAN_MOVED || ev->type > DMAD_PROTO_EV_RESTARTED)
		return;
	if (c->evq_len == DMAC_EVQ_LEN) {
		c->evq_head = (c->evq_head + 1) % DMAC_EVQ_LEN;
		c->evq_len--;
	}
	c->evq[(c->evq_head + c->evq_len) % DMAC_EVQ_LEN] = *ev;
	c->evq_len++;
	/* Fails only when the counter is saturated: dmac_fd() is readable then. */
	(void)!write(c->evfd, &one, sizeof(one));
}

/*
 * The restarted dmad's liveness page, mapped over the old one: a thread
 * reading the old word at that moment reads the new one next, never an
 * unmapped address. A page that cannot be mapped leaves the old one,
 * which ends the session at the restart bound.
 */
static void life_replace(struct dmac_client *c, int fd)
{
	void *p;

	if (!dmad_proto_life_gone(__atomic_load_n(c->life, __ATOMIC_RELAXED)))
		return; /* not from a restart this client saw: keep what works */
	p = mmap((void *)c->life, DMAD_PROTO_LIFE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p != MAP_FAILED)
		__atomic_store_n(&c->gap_since_ns, 0, __ATOMIC_RELAXED);
}

/* Is @m an event (whole), not a reply? */
static bool is_event(const struct msg *m)
{
	return m->hdr.type == DMAD_PROTO_EVENT && !(m->hdr.flags & DMAD_PROTO_F_REPLY) &&
	       m->body_len >= sizeof(m->body.event);
}

/* Is @m a RESTARTED event from a dmad that answers a request sent again
 * as it did the first time (minor 11 on, dmad_proto.h)? */
static bool restarted_replays(const struct msg *m)
{
	return is_event(m) && m->body.event.type == DMAD_PROTO_EV_RESTARTED &&
	       m->hdr.minor >= DMAD_PROTO_MINOR_REPLAY;
}

/* A message that is not the reply being waited for: queue events, drop the rest. */
static void msg_route(struct dmac_client *c, struct msg *m)
{
	if (is_event(m)) {
		if (m->body.event.type == DMAD_PROTO_EV_RESTARTED) {
			if (m->nfds == 1)
				life_replace(c, m->fds[0]);
			/* After a crash: every flow opened before it has ended (rx.c). */
			if (m->body.event.chan_id & DMAD_PROTO_RESTARTED_RX_ENDED)
				__atomic_fetch_add(&c->rx_epoch, 1, __ATOMIC_RELEASE);
			m->body.event.chan_id = 0;
		}
		evq_push(c, &m->body.event);
	}
	msg_close_fds(m);
}

static int msg_send(struct dmac_client *c, const struct dmad_proto_hdr *hdr, const void *body,
		    int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2] = {
		{.iov_base = (void *)hdr, .iov_len = sizeof(*hdr)},
		{.iov_base = (void *)body, .iov_len = hdr->len},
	};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	do
		n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? conn_errno(c, errno) : 0;
}

/*
 * Send one request (with @fd unless it is -1) and wait for its reply: the
 * first @rep_len body bytes go to @rep and exactly @nfds fds to @ret_fds.
 * Returns 0, the daemon's -errno, -ENODEV, or -EPROTO for a reply that does
 * not fit the request. On failure no fd is left open.
 *
 * dmad may die with the request read and unanswered, or done and its
 * reply unsent: a RESTARTED event (from a dmad of minor 11 on) while it
 * waits sends it again, the same seq, body and fd, and dmad answers it
 * as it did, or does it once. A second reply of the seq, if the first
 * request had waited in the socket, is one this loop has stopped waiting
 * for: dropped with the next request's wait, as any other stale message.
 */
static int request(struct dmac_client *c, uint16_t type, const void *body, size_t len, int fd,
		   void *rep, size_t rep_len, int *ret_fds, unsigned nfds, uint32_t *ret_epoch)
{
	struct dmad_proto_hdr hdr = {
		.magic = DMAD_PROTO_MAGIC,
		.major = DMAD_PROTO_VERSION_MAJOR,
		.minor = DMAD_PROTO_VERSION_MINOR,
		.type = type,
		.len = (uint32_t)len,
	};
	struct msg m;
	bool again;
	int r;

	if (__dmac_client_dead(c))
		return -ENODEV;
	/* Seq 0 belongs to events. */
	if (++c->seq == 0)
		c->seq = 1;
	hdr.seq = c->seq;
	r = msg_send(c, &hdr, body, fd);
	if (r < 0)
		return r;

	for (;;) {
		r = msg_recv(c, &m, 0);
		if (r < 0)
			return r;
		if ((m.hdr.flags & DMAD_PROTO_F_REPLY) && m.hdr.seq == hdr.seq)
			break;
		again = restarted_replays(&m);
		msg_route(c, &m);
		if (again && (r = msg_send(c, &hdr, body, fd)) < 0)
			return r;
	}

	/* Which dmad answered: every RESTARTED before the reply was read. */
	if (ret_epoch)
		*ret_epoch = __atomic_load_n(&c->rx_epoch, __ATOMIC_RELAXED);
	if (m.hdr.type != type || m.hdr.status > 0 || m.hdr.status < -4095)
		r = -EPROTO;
	else if (m.hdr.status < 0)
		r = m.hdr.status;
	else if (m.body_len < rep_len || m.nfds != nfds)
		r = -EPROTO;
	if (r < 0) {
		msg_close_fds(&m);
		return r;
	}
	if (rep_len > 0)
		memcpy(rep, &m.body, rep_len);
	if (nfds > 0)
		memcpy(ret_fds, m.fds, nfds * sizeof(int));
	return 0;
}

int __dmac_request_epoch(struct dmac_client *c, uint16_t type, const void *body, size_t len, int fd,
			 void *rep, size_t rep_len, int *ret_fds, unsigned nfds,
			 uint32_t *ret_epoch)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = request(c, type, body, len, fd, rep, rep_len, ret_fds, nfds, ret_epoch);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int __dmac_request(struct dmac_client *c, uint16_t type, const void *body, size_t len, int fd,
		   void *rep, size_t rep_len, int *ret_fds, unsigned nfds)
{
	return __dmac_request_epoch(c, type, body, len, fd, rep, rep_len, ret_fds, nfds, NULL);
}

/* Read what the socket holds without waiting: events go to the queue. */
void __dmac_events_read_locked(struct dmac_client *c)
{
	struct msg m;
	int r;

	do {
		r = msg_recv(c, &m, MSG_DONTWAIT);
		if (r == 0)
			msg_route(c, &m);
	} while (r == 0 || r == -EPROTO);
}

void __dmac_events_read(struct dmac_client *c)
{
	pthread_mutex_lock(&c->lock);
	__dmac_events_read_locked(c);
	pthread_mutex_unlock(&c->lock);
}
