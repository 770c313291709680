/* SPDX-License-Identifier: MIT */
/*
 * One request at a time over SOCK_SEQPACKET: each recv() is one whole
 * message, so framing is the kernel's job and a reply never arrives split.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dmad_proto.h"
#include "transport.h"

struct ctl_conn {
	int fd;
	uint32_t seq;
	/* Replies are read in place as records of 8-byte fields. */
	_Alignas(8) unsigned char buf[DMAD_PROTO_MSG_MAX];
};

_Static_assert(sizeof(struct dmad_proto_hdr) % 8 == 0, "reply bodies start 8-byte aligned");

int ctl_connect(const char *path, struct ctl_conn **ret_conn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	struct ctl_conn *c;
	int r;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);

	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->seq = 0;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		ctl_close(c);
		return r;
	}
	*ret_conn = c;
	return 0;
}

void ctl_close(struct ctl_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receive one message into c->buf before @deadline; returns its size. */
static ssize_t recv_one(struct ctl_conn *c, int64_t deadline)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int64_t left;
	ssize_t n;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0)
			break;
	}
	/* MSG_TRUNC returns the real size, so an oversized message is caught. */
	n = recv(c->fd, c->buf, sizeof(c->buf), MSG_TRUNC);
	if (n < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > sizeof(c->buf))
		return -EMSGSIZE;
	return n;
}

static int check_hdr(const struct dmad_proto_hdr *h, size_t n)
{
	if (n < sizeof(*h) || h->magic != DMAD_PROTO_MAGIC)
		return -EBADMSG;
	if (h->major != DMAD_PROTO_VERSION_MAJOR)
		return -EPROTO;
	if (h->len != n - sizeof(*h))
		return -EBADMSG;
	return 0;
}

static int is_event(const struct dmad_proto_hdr *h)
{
	return h->type == DMAD_PROTO_EVENT && h->seq == 0 && !(h->flags & DMAD_PROTO_F_REPLY);
}

int ctl_call(struct ctl_conn *c, uint16_t type, const void *req, uint32_t req_len, int timeout_ms,
	     struct ctl_reply *ret_reply)
{
	const struct dmad_proto_hdr *rep = (const void *)c->buf;
	struct dmad_proto_hdr h = {
		.magic = DMAD_PROTO_MAGIC,
		.major = DMAD_PROTO_VERSION_MAJOR,
		.minor = DMAD_PROTO_VERSION_MINOR,
		.type = type,
		.len = req_len,
	};
	struct iovec iov[2] = {
		{.iov_base = &h, .iov_len = sizeof(h)},
		{.iov_base = (void *)req, .iov_len = req_len},
	};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = req_len ? 2 : 1};
	int64_t deadline = now_ms() + timeout_ms;
	ssize_t n;
	int r;

	/* seq 0 marks events, so a request never uses it. */
	if (++c->seq == 0)
		++c->seq;
	h.seq = c->seq;
	/* MSG_NOSIGNAL: a daemon that went away is an error to report, not SIGPIPE. */
	if (sendmsg(c->fd, &m, MSG_NOSIGNAL) < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;

	for (;;) {
		n = recv_one(c, deadline);
		if (n < 0)
			return (int)n;
		r = check_hdr(rep, (size_t)n);
		if (r < 0)
			return r;
		if (!is_event(rep))
			break;
	}
	if (!(rep->flags & DMAD_PROTO_F_REPLY) || rep->type != type || rep->seq != h.seq ||
	    rep->status > 0 || rep->status < -4095 /* no errno is that large */)
		return -EBADMSG;

	ret_reply->status = rep->status;
	ret_reply->len = rep->len;
	ret_reply->body = rep + 1;
	return 0;
}

int ctl_fd(const struct ctl_conn *c)
{
	return c->fd;
}

int ctl_recv(struct ctl_conn *c, int timeout_ms, uint16_t *ret_type, struct ctl_reply *ret_msg)
{
	const struct dmad_proto_hdr *h = (const void *)c->buf;
	ssize_t n = recv_one(c, now_ms() + timeout_ms);
	int r;

	if (n < 0)
		return (int)n;
	r = check_hdr(h, (size_t)n);
	if (r < 0)
		return r;
	if (h->seq != 0 || (h->flags & DMAD_PROTO_F_REPLY))
		return -EBADMSG;
	*ret_type = h->type;
	ret_msg->status = h->status;
	ret_msg->len = h->len;
	ret_msg->body = h + 1;
	return 0;
}

int ctl_wait_event(struct ctl_conn *c, uint32_t type, int timeout_ms,
		   struct dmad_proto_event *ret_event)
{
	const struct dmad_proto_hdr *h = (const void *)c->buf;
	int64_t deadline = now_ms() + timeout_ms;
	struct dmad_proto_event ev;
	ssize_t n;
	int r;

	for (;;) {
		n = recv_one(c, deadline);
		if (n < 0)
			return (int)n;
		r = check_hdr(h, (size_t)n);
		if (r < 0)
			return r;
		if (!is_event(h) || h->len < sizeof(ev))
			continue;
		memcpy(&ev, h + 1, sizeof(ev));
		if (ev.type == type) {
			*ret_event = ev;
			return 0;
		}
	}
}
