/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rxnet.h"
#include "rxsock.h"

#define MMSG_BATCH 64
#define URING_BUFS 4096u /* provided buffers: a power of two */
#define URING_BGID 0

int rxsock_open(uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, RXNET_ADDR, &a.sin_addr);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		tap_bail("UDP socket on port %u: %s", port, strerror(errno));
	return fd;
}

static void seen(struct rxsock_count *c, const uint8_t *buf, uint32_t len)
{
	static volatile uint8_t sink;

	if (!c->packets)
		c->first_ms = harness_now_ms();
	if (len)
		sink += buf[0];
	c->packets++;
	c->bytes += len;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		tap_bail("SO_RCVTIMEO: %s", strerror(errno));
}

struct rxsock_count rxsock_recvmmsg(int fd, uint32_t max)
{
	struct mmsghdr m[MMSG_BATCH];
	struct iovec iov[MMSG_BATCH];
	struct rxsock_count c = {0};
	uint8_t *buf = malloc((size_t)MMSG_BATCH * max);

	if (!buf)
		tap_bail("recvmmsg buffers: %s", strerror(errno));
	/* Blocking, as a plain receiver would; the timeout ends the stream. */
	set_timeout(fd, RXSOCK_FIRST_MS);
	for (unsigned i = 0; i < MMSG_BATCH; i++) {
		iov[i] = (struct iovec){buf + (size_t)i * max, max};
		m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	for (;;) {
		int n = recvmmsg(fd, m, MMSG_BATCH, MSG_WAITFORONE, NULL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			tap_bail("recvmmsg: %s", strerror(errno));
		if (!c.packets)
			set_timeout(fd, RXSOCK_IDLE_MS);
		for (int i = 0; i < n; i++)
			seen(&c, iov[i].iov_base, m[i].msg_len);
		c.last_ms = harness_now_ms();
	}
	free(buf);
	return c;
}

/*
 * A CQ with room for every buffer, so that a full CQ never ends the
 * multishot recv; completions run only when we ask for them (DEFER_TASKRUN)
 * where the kernel has it.
 */
static void ring_init(struct io_uring *ring)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
			 IORING_SETUP_DEFER_TASKRUN,
		.cq_entries = URING_BUFS,
	};
	int r = io_uring_queue_init_params(8, ring, &p);

	if (r == -EINVAL) {
		p = (struct io_uring_params){.flags = IORING_SETUP_CQSIZE,
					     .cq_entries = URING_BUFS};
		r = io_uring_queue_init_params(8, ring, &p);
	}
	if (r < 0)
		tap_bail("io_uring_queue_init: %s", strerror(-r));
}

static void arm(struct io_uring *ring, int fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = URING_BGID;
}

struct rxsock_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	uint32_t max;
	int fd;
};

#define BR_SIZE (URING_BUFS * sizeof(struct io_uring_buf))

struct rxsock_uring *rxsock_uring_new(int fd, uint32_t max)
{
	const int mask = io_uring_buf_ring_mask(URING_BUFS);
	struct rxsock_uring *u = calloc(1, sizeof(*u));
	struct io_uring_buf_reg reg = {0};
	int r;

	if (!u)
		tap_bail("out of memory");
	u->fd = fd;
	u->max = max;
	ring_init(&u->ring);
	/* liburing 2.3 has no io_uring_setup_buf_ring(): map and register by hand. */
	u->br = mmap(NULL, BR_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	u->bufs = malloc((size_t)URING_BUFS * max);
	if (u->br == MAP_FAILED || !u->bufs)
		tap_bail("io_uring buffers: %s", strerror(errno));
	memset(u->bufs, 0, (size_t)URING_BUFS * max); /* faulted in before the clock */
	reg.ring_addr = (uint64_t)(uintptr_t)u->br;
	reg.ring_entries = URING_BUFS;
	reg.bgid = URING_BGID;
	r = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (r < 0)
		tap_bail("io_uring_register_buf_ring: %s", strerror(-r));
	io_uring_buf_ring_init(u->br);
	for (unsigned i = 0; i < URING_BUFS; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * max, max, (unsigned short)i,
				      mask, (int)i);
	io_uring_buf_ring_advance(u->br, URING_BUFS);
	arm(&u->ring, fd);
	r = io_uring_submit(&u->ring);
	if (r != 1)
		tap_bail("io_uring_submit: %s", strerror(-r));
	return u;
}

void rxsock_uring_free(struct rxsock_uring *u)
{
	io_uring_queue_exit(&u->ring);
	munmap(u->br, BR_SIZE);
	free(u->bufs);
	free(u);
}

struct rxsock_count rxsock_uring_run(struct rxsock_uring *u)
{
	const int mask = io_uring_buf_ring_mask(URING_BUFS);
	struct __kernel_timespec first = {RXSOCK_FIRST_MS / 1000, 0},
				 idle = {0, RXSOCK_IDLE_MS * 1000000L};
	struct io_uring *ring = &u->ring;
	struct io_uring_buf_ring *br = u->br;
	struct rxsock_count c = {0};
	const uint32_t max = u->max;
	int r;

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0, given = 0;
		uint64_t before = c.packets;
		bool rearm = false;

		r = io_uring_submit_and_wait_timeout(ring, &cqe, 1, c.packets ? &idle : &first,
						     NULL);
		if (r == -ETIME)
			break;
		if (r < 0 && r != -EINTR)
			tap_bail("io_uring_submit_and_wait_timeout: %s", strerror(-r));
		io_uring_for_each_cqe(ring, head, cqe)
		{
			if (cqe->res >= 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
				unsigned short bid =
					(unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
				uint8_t *b = u->bufs + (size_t)bid * max;

				seen(&c, b, (uint32_t)cqe->res);
				io_uring_buf_ring_add(br, b, max, bid, mask, (int)given++);
			} else if (cqe->res < 0 && cqe->res != -ENOBUFS) {
				tap_bail("multishot recv: %s", strerror(-cqe->res));
			}
			/* Ended (out of buffers, or the kernel's choice): ask again. */
			rearm |= !(cqe->flags & IORING_CQE_F_MORE);
			n++;
		}
		/* The buffers go back, then the CQ entries that named them. */
		io_uring_buf_ring_advance(br, (int)given);
		io_uring_cq_advance(ring, n);
		if (c.packets != before)
			c.last_ms = harness_now_ms();
		if (rearm)
			arm(ring, u->fd);
	}
	return c;
}
