/* SPDX-License-Identifier: MIT */
/*
 * A client's messages on the wire: framing, fds, checking each request
 * against its type, sending replies and events. Everything in a message is
 * untrusted: sizes, ids, fds and their kinds are checked before use, and
 * every malformed request gets an error reply while the connection stays
 * usable.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "closer.h"
#include "handover_live.h"
#include "log.h"

static int send_msg(struct client *c, uint16_t type, uint16_t flags, uint32_t seq, int32_t status,
		    const void *body, uint32_t len, const int *fds, unsigned nfds)
{
	struct dmad_proto_hdr h = {
		.magic = DMAD_PROTO_MAGIC,
		.major = DMAD_PROTO_VERSION_MAJOR,
		.minor = DMAD_PROTO_VERSION_MINOR,
		.type = type,
		.flags = flags,
		.seq = seq,
		.len = len,
		.status = status,
	};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)body, len}};
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DMAD_PROTO_FDS_MAX)];
	} u;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};

	if (nfds) {
		struct cmsghdr *cm;

		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	/* Never block the control thread on a client that stopped reading. */
	if (sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int client_send(struct client *c, uint16_t type, uint32_t seq, int32_t status, const void *body,
		uint32_t len, const int *fds, unsigned nfds)
{
	return send_msg(c, type, DMAD_PROTO_F_REPLY, seq, status, body, len, fds, nfds);
}

int client_send_event(struct client *c, uint16_t type, const void *body, uint32_t len)
{
	return send_msg(c, type, 0, 0, 0, body, len, NULL, 0);
}

/*
 * Events are advice, not state (the ring always says where a channel is), so
 * a client that does not read them must not lose its replies to them: one
 * is dropped once the client's unread messages take a quarter of what its
 * socket may hold, which keeps room for the largest reply.
 */
void client_event(struct client *c, const struct dmad_proto_event *ev)
{
	int unread;

	if (c->closing || !c->hello)
		return;
	if (ioctl(c->fd, SIOCOUTQ, &unread) == 0 && unread > c->sndbuf / 4) {
		c->events_dropped++;
		return;
	}
	send_msg(c, DMAD_PROTO_EVENT, 0, 0, 0, ev, sizeof(*ev), NULL, 0);
}

int client_event_fd(struct client *c, const struct dmad_proto_event *ev, int fd)
{
	return send_msg(c, DMAD_PROTO_EVENT, 0, 0, 0, ev, sizeof(*ev), &fd, 1);
}

/*
 * Check a request against its type, then let its handler answer. The order
 * of the checks is part of the protocol: each failure has its errno.
 */
static int dispatch(struct client *c, const struct client_req *rq, unsigned nfds,
		    struct client_rep *rep)
{
	const struct client_req_type *t = client_req_type(rq->h->type);

	if (c->refused)
		return -EDQUOT;
	if (!c->hello && rq->h->type != DMAD_PROTO_HELLO)
		return -EPROTO;
	if (!t)
		return nfds ? -EINVAL : -EOPNOTSUPP;
	/* Fds where none belong, a body of the wrong size, fds missing. */
	if (nfds && !t->nfds)
		return -EINVAL;
	if (rq->h->len != t->len)
		return -EBADMSG;
	if (nfds != t->nfds)
		return -EINVAL;
	if (t->admin && !c->admin)
		return -EACCES;
	return t->handler(c, rq, rep);
}

static void hand_to_closer(struct client *c, int fd)
{
	uint64_t ticket = closer_close(fd);

	if (ticket)
		c->closer_ticket = ticket;
}

static unsigned take_fds(struct client *c, int *fds)
{
	unsigned n = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&c->msg); cm; cm = CMSG_NXTHDR(&c->msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (n < CLIENT_FDS_MAX)
				fds[n++] = fd;
			else
				hand_to_closer(c, fd);
		}
	}
	return n;
}

int client_rep_error(struct client_rep *rep, int err, const char *fmt, ...)
{
	va_list ap;

	memset(&rep->text, 0, sizeof(rep->text));
	va_start(ap, fmt);
	vsnprintf(rep->text.text, sizeof(rep->text.text), fmt, ap);
	va_end(ap);
	rep->error = true;
	return err;
}

struct msghdr *client_recv_prepare(struct client *c)
{
	/* Zeroed so that a control buffer the kernel left alone parses as empty. */
	memset(c->cbuf, 0, sizeof(c->cbuf));
	c->iov = (struct iovec){c->buf, sizeof(c->buf)};
	c->msg = (struct msghdr){.msg_iov = &c->iov,
				 .msg_iovlen = 1,
				 .msg_control = c->cbuf,
				 .msg_controllen = sizeof(c->cbuf)};
	return &c->msg;
}

/*
 * Where a test has dmad die (SIGKILL) while it serves a request, to check
 * what a crash keeps: DMAD_FAULT_CRASH=POINT:TYPE[:N], read only with
 * --fault-injection, dies at POINT of the Nth (1st) request of protocol
 * type TYPE: read (before it is done), applied (done, not journaled),
 * journaled (not answered), replied.
 */
enum crash_point { CRASH_READ, CRASH_APPLIED, CRASH_JOURNALED, CRASH_REPLIED, CRASH_NONE };

static void crash_at(enum crash_point at, uint16_t type)
{
	static const char *const points[] = {"read", "applied", "journaled", "replied"};
	static enum crash_point point = CRASH_NONE;
	static unsigned long want, nth, seen;
	static bool parsed;

	if (!dmad.cfg.fault_injection)
		return;
	if (!parsed) {
		const char *e = getenv("DMAD_FAULT_CRASH"), *colon = e ? strchr(e, ':') : NULL;

		parsed = true;
		for (unsigned i = 0; colon && i < CRASH_NONE; i++)
			if ((size_t)(colon - e) == strlen(points[i]) &&
			    !strncmp(e, points[i], strlen(points[i])))
				point = i;
		if (colon) {
			char *end;

			want = strtoul(colon + 1, &end, 10);
			nth = *end == ':' ? strtoul(end + 1, NULL, 10) : 1;
		}
		if (point != CRASH_NONE)
			log_warning("fault injection: dying at request %lu of type %lu, %s", nth,
				    want, points[point]);
	}
	/* Counted once a request, where it is read. */
	if (type == want && at == CRASH_READ)
		seen++;
	if (at == point && type == want && seen == nth)
		raise(SIGKILL);
}

/* Answer @h: done now, or refused with @ret; if @whole, as its type says
 * (else its header is not to be trusted: nothing of it is kept). */
static int answer(struct client *c, const struct dmad_proto_hdr *h, bool whole, int ret,
		  const struct client_rep *rep)
{
	if (whole) {
		crash_at(CRASH_APPLIED, h->type);
		client_replay_keep(c, h, ret, rep);
	}
	if (ret == 0 && handover_reply_kept(h->type))
		handover_live_dirty();
	/* A crash after this answer must not undo what it says took effect;
	 * the answer is journaled with it, for the same request sent again. */
	handover_live_sync();
	crash_at(CRASH_JOURNALED, h->type);
	if (ret == 0 && !rep->later)
		ret = client_send(c, h->type, h->seq, 0, rep->body, rep->len, rep->fds, rep->nfds);
	else if (ret < 0 && ret != -EAGAIN) {
		const struct client_req_type *t = client_req_type(h->type);

		log_debug("client %u: request %s (type %u) seq %u refused: %s", c->id,
			  t ? t->name : "unknown", h->type, h->seq, strerror(-ret));
		if (rep->error)
			ret = client_send(c, h->type, h->seq, ret, &rep->text, sizeof(rep->text),
					  NULL, 0);
		else
			ret = client_send(c, h->type, h->seq, ret, NULL, 0, NULL, 0);
	}
	crash_at(CRASH_REPLIED, h->type);
	return ret;
}

void client_handle(struct client *c, ssize_t n)
{
	struct dmad_proto_hdr h = {0};
	struct client_rep rep = {0};
	int fds[CLIENT_FDS_MAX];
	unsigned nfds = take_fds(c, fds);
	bool whole = false;
	int ret = 0;

	/* A request filling the whole buffer may have been cut, whether or not
	 * the receiving path reported MSG_TRUNC: none is that big. */
	if ((size_t)n == sizeof(c->buf))
		c->msg.msg_flags |= MSG_TRUNC;
	if ((size_t)n >= sizeof(h))
		memcpy(&h, c->buf, sizeof(h));
	if ((size_t)n < sizeof(h))
		ret = -EBADMSG;
	else if (h.magic != DMAD_PROTO_MAGIC || h.major != DMAD_PROTO_VERSION_MAJOR)
		ret = -EPROTO;
	else if (c->msg.msg_flags & MSG_TRUNC)
		ret = -EMSGSIZE;
	else if (c->msg.msg_flags & MSG_CTRUNC)
		ret = -EINVAL; /* more fds than any request carries */
	else if (h.len != (size_t)n - sizeof(h) || (h.flags & DMAD_PROTO_F_REPLY))
		ret = -EBADMSG;
	else
		whole = true;
	if (whole)
		crash_at(CRASH_READ, h.type);
	/* The request it was last answered, again: that answer, not a second run. */
	if (!whole || !client_replay(c, &h, &ret)) {
		if (whole)
			ret = dispatch(c, &(struct client_req){&h, c->buf + sizeof(h), fds}, nfds,
				       &rep);
		ret = answer(c, &h, whole, ret, &rep);
	}
	/* A client whose socket buffer is full is not reading replies: drop it.
	 * One over the client limit has had its answer: its slot is not kept. */
	if (ret == -EAGAIN || ret == -EPIPE || ret == -ECONNRESET || c->refused)
		shutdown(c->fd, SHUT_RDWR);
	/* Whatever fds came along, the daemon keeps none: regions hold mappings
	 * (and a dup of their memfd). Closed elsewhere: closing may wait. */
	for (unsigned i = 0; i < nfds; i++)
		hand_to_closer(c, fds[i]);
}
