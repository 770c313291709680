/* SPDX-License-Identifier: MIT */
/*
 * The control protocol and the channel ring spoken by hand, without
 * libdmaclient, for tests that must send what the library never would.
 */
#ifndef TESTS_RAWPROTO_H
#define TESTS_RAWPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmad_proto.h"
#include "dmad_ring.h"

/* How long a raw request waits for its reply. */
#define RAW_TIMEOUT_MS 5000

struct raw_msg {
	struct dmad_proto_hdr hdr;
	uint8_t body[DMAD_PROTO_MSG_MAX];
	size_t body_len;
	int fds[DMAD_PROTO_FDS_MAX];
	unsigned int nfds;
};

struct raw_chan {
	uint32_t id;
	struct dmad_proto_ring *ring;
	struct dmad_proto_desc *sq; /* resolved once, so tests may scribble on the header */
	struct dmad_proto_err *err;
	uint32_t ring_size;
	int ring_fd;
	int doorbell_fd;
	uint32_t tail;	 /* next index to fill */
	uint32_t cookie; /* last cookie written */
};

/* Connected SOCK_SEQPACKET fd, or -errno. */
int raw_connect(const char *path);

/* The kernel's SCM_MAX_FD: the most fds one message can carry. */
#define RAW_FDS_MAX 253

/* Send @len bytes as one packet, with @nfds (<= RAW_FDS_MAX) fds attached.
 * 0 or -errno. */
int raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned int nfds);

/*
 * Failures of the exchange itself, outside the errno range so that they
 * cannot be mistaken for a status the daemon sent.
 */
#define RAW_CLOSED   (-10001) /* the daemon closed the connection */
#define RAW_TIMEOUT  (-10002) /* no answer within RAW_TIMEOUT_MS */
#define RAW_MISMATCH (-10003) /* an answer, but not a reply to this request */

/* Is @r a status the daemon sent, rather than a failed exchange? */
static inline bool raw_is_status(int r)
{
	return r > -4096;
}

/*
 * raw_recv() - the next message that is not an unsolicited event, within
 * @timeout_ms. Returns its size (>= sizeof(hdr)), RAW_CLOSED, RAW_TIMEOUT,
 * RAW_MISMATCH (shorter than a header), or -errno from recvmsg().
 */
int raw_recv(int fd, struct raw_msg *m, int timeout_ms);

/*
 * raw_request() - send one request and read its reply. Returns the reply's
 * status (0 or -errno from the daemon) when a reply with the same type and
 * seq came, else RAW_CLOSED, RAW_TIMEOUT, RAW_MISMATCH or -errno from the
 * socket calls.
 */
int raw_request(int fd, uint16_t type, const void *body, uint32_t len, const int *fds,
		unsigned int nfds, struct raw_msg *ret_reply);

int raw_hello(int fd, const char *name);
int raw_region_reg(int fd, int memfd, uint64_t len, uint32_t *ret_id);
/* CHAN_GET, then map the ring it returns. */
int raw_chan_get(int fd, uint32_t caps, struct raw_chan *ret_chan);
void raw_chan_unmap(struct raw_chan *ch);
/* Connect as @name, take a channel and read its ring's flags, then let go.
 * Returns 0 or as raw_chan_get(). */
int raw_ring_flags(const char *socket, const char *name, uint32_t *ret_flags);

/* A copy from region 0 to region 1, the layout the raw tests register. */
static inline struct dmad_proto_desc raw_copy_01(uint64_t src_off, uint64_t dst_off, uint32_t len)
{
	return (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
					.src_region = 0,
					.dst_region = 1,
					.src_off = src_off,
					.dst_off = dst_off,
					.len = len};
}

/* Write @d at the next slot with the next cookie; returns the cookie. */
uint32_t raw_chan_push(struct raw_chan *ch, struct dmad_proto_desc d);
/* Publish sq_tail and ring the doorbell. */
void raw_chan_issue(struct raw_chan *ch);
/* Wait until ring->completed reaches @cookie; false on timeout. */
bool raw_chan_wait(struct raw_chan *ch, uint32_t cookie, int timeout_ms);

/*
 * A memfd of @len bytes mapped MAP_SHARED at *ret_map, sealed against
 * shrinking when @seal. Returns the fd, or bails out.
 */
int raw_memfd(size_t len, bool seal, void **ret_map);

#endif /* TESTS_RAWPROTO_H */
