/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "rawproto.h"

static uint32_t next_seq = 1;

int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * RAW_FDS_MAX)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > RAW_FDS_MAX)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* A well-formed header (body length @len) and body. 0 or -errno. */
static int send_msg(int fd, uint16_t type, uint32_t seq, const void *body, uint32_t len,
		    const int *fds, unsigned int nfds)
{
	static uint8_t buf[sizeof(struct dmad_proto_hdr) + DMAD_PROTO_MSG_MAX];
	struct dmad_proto_hdr h = {.magic = DMAD_PROTO_MAGIC,
				   .major = DMAD_PROTO_VERSION_MAJOR,
				   .minor = DMAD_PROTO_VERSION_MINOR,
				   .type = type,
				   .seq = seq,
				   .len = len};

	if (len > DMAD_PROTO_MSG_MAX)
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	return raw_send(fd, buf, sizeof(h) + len, fds, nfds);
}

static int recv_one(int fd, struct raw_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * DMAD_PROTO_FDS_MAX * 2)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov[2] = {{&m->hdr, sizeof(m->hdr)}, {m->body, sizeof(m->body)}};
	struct msghdr msg = {.msg_iov = iov,
			     .msg_iovlen = 2,
			     .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf)};
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return -errno;
	m->nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (m->nfds < DMAD_PROTO_FDS_MAX)
				m->fds[m->nfds++] = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return RAW_CLOSED;
	if ((size_t)n < sizeof(m->hdr))
		return RAW_MISMATCH;
	m->body_len = (size_t)n - sizeof(m->hdr);
	return (int)n;
}

int raw_recv(int fd, struct raw_msg *m, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - harness_now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0) {
			if (left == 0)
				return RAW_TIMEOUT;
			continue;
		}
		r = recv_one(fd, m);
		if (r == -ECONNRESET)
			return RAW_CLOSED;
		if (r < 0 || m->hdr.type != DMAD_PROTO_EVENT || (m->hdr.flags & DMAD_PROTO_F_REPLY))
			return r;
		for (unsigned int i = 0; i < m->nfds; i++)
			close(m->fds[i]);
	}
}

int raw_request(int fd, uint16_t type, const void *body, uint32_t len, const int *fds,
		unsigned int nfds, struct raw_msg *ret_reply)
{
	static struct raw_msg m;
	uint32_t seq = next_seq++;
	int r;

	r = send_msg(fd, type, seq, body, len, fds, nfds);
	if (r == -EPIPE || r == -ECONNRESET)
		return RAW_CLOSED;
	if (r < 0)
		return r;
	r = raw_recv(fd, &m, RAW_TIMEOUT_MS);
	if (r < 0)
		return r;
	if (m.hdr.magic != DMAD_PROTO_MAGIC || m.hdr.type != type || m.hdr.seq != seq ||
	    !(m.hdr.flags & DMAD_PROTO_F_REPLY)) {
		tap_diag("reply to type %u seq %u: magic %#x type %u seq %u flags %#x", type, seq,
			 m.hdr.magic, m.hdr.type, m.hdr.seq, m.hdr.flags);
		return RAW_MISMATCH;
	}
	if (ret_reply)
		*ret_reply = m;
	else
		for (unsigned int i = 0; i < m.nfds; i++)
			close(m.fds[i]);
	return m.hdr.status;
}

int raw_hello(int fd, const char *name)
{
	struct dmad_proto_hello_req req = {{0}};

	snprintf(req.name, sizeof(req.name), "%s", name);
	return raw_request(fd, DMAD_PROTO_HELLO, &req, sizeof(req), NULL, 0, NULL);
}

int raw_region_reg(int fd, int memfd, uint64_t len, uint32_t *ret_id)
{
	static struct raw_msg rep;
	struct dmad_proto_region_reg_req req = {.len = len};
	struct dmad_proto_region_reg_rep body;
	int r = raw_request(fd, DMAD_PROTO_REGION_REG, &req, sizeof(req), &memfd, 1, &rep);

	if (r < 0)
		return r;
	if (rep.body_len < sizeof(body))
		return RAW_MISMATCH;
	memcpy(&body, rep.body, sizeof(body));
	*ret_id = body.region_id;
	return 0;
}

int raw_chan_get(int fd, uint32_t caps, struct raw_chan *ret_chan)
{
	static struct raw_msg rep;
	struct dmad_proto_chan_get_req req = {.caps = caps};
	struct dmad_proto_chan_get_rep body;
	struct raw_chan ch = {.ring_fd = -1, .doorbell_fd = -1};
	void *p;
	int r = raw_request(fd, DMAD_PROTO_CHAN_GET, &req, sizeof(req), NULL, 0, &rep);

	if (r < 0)
		return r;
	if (rep.body_len < sizeof(body) || rep.nfds != 2) {
		tap_diag("CHAN_GET reply: %zu body bytes, %u fds", rep.body_len, rep.nfds);
		r = RAW_MISMATCH;
		goto fail;
	}
	memcpy(&body, rep.body, sizeof(body));
	p = mmap(NULL, body.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, rep.fds[0], 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	ch.id = body.chan_id;
	ch.ring = p;
	ch.ring_size = body.ring_size;
	ch.ring_fd = rep.fds[0];
	ch.doorbell_fd = rep.fds[1];
	ch.sq = dmad_proto_ring_sq(ch.ring);
	ch.err = dmad_proto_ring_err(ch.ring);
	ch.tail = __atomic_load_n(&ch.ring->sq_head, __ATOMIC_ACQUIRE);
	ch.cookie = __atomic_load_n(&ch.ring->completed, __ATOMIC_ACQUIRE);
	*ret_chan = ch;
	return 0;
fail:
	for (unsigned int i = 0; i < rep.nfds; i++)
		close(rep.fds[i]);
	return r;
}

void raw_chan_unmap(struct raw_chan *ch)
{
	munmap(ch->ring, ch->ring_size);
	close(ch->ring_fd);
	close(ch->doorbell_fd);
}

int raw_ring_flags(const char *socket, const char *name, uint32_t *ret_flags)
{
	struct raw_chan ch;
	int fd = raw_connect(socket), r = fd;

	if (fd >= 0 && (r = raw_hello(fd, name)) == 0 &&
	    (r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch)) == 0) {
		*ret_flags = ch.ring->flags;
		raw_chan_unmap(&ch);
	}
	if (fd >= 0)
		close(fd);
	return r;
}

uint32_t raw_chan_push(struct raw_chan *ch, struct dmad_proto_desc d)
{
	ch->cookie = dmad_proto_cookie_next(ch->cookie);
	d.cookie = ch->cookie;
	ch->sq[ch->tail & (DMAD_PROTO_SQ_ENTRIES - 1)] = d;
	ch->tail++;
	return ch->cookie;
}

void raw_chan_issue(struct raw_chan *ch)
{
	uint64_t one = 1;

	/* The descriptors must be visible before the worker sees the tail. */
	__atomic_store_n(&ch->ring->sq_tail, ch->tail, __ATOMIC_RELEASE);
	/* Always ring: a worker that polls ignores a spurious doorbell. */
	if (write(ch->doorbell_fd, &one, sizeof(one)) < 0)
		tap_diag("doorbell write: %s", strerror(errno));
}

bool raw_chan_wait(struct raw_chan *ch, uint32_t cookie, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;

	while (!dmad_proto_cookie_done(
		cookie, __atomic_load_n(&ch->ring->completed, __ATOMIC_ACQUIRE), ch->cookie)) {
		if (harness_now_ms() > end)
			return false;
		usleep(100);
	}
	return true;
}

int raw_memfd(size_t len, bool seal, void **ret_map)
{
	int fd = memfd_create("dmad-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0)
		tap_bail("memfd: %s", strerror(errno));
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		tap_bail("F_ADD_SEALS: %s", strerror(errno));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		tap_bail("mmap memfd: %s", strerror(errno));
	*ret_map = p;
	return fd;
}
