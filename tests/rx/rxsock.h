/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own ways to receive a UDP flow, as bench-rx's baselines for
 * dmad's receive offload: a socket read with recvmmsg(), and the same socket
 * read with io_uring's multishot recv into a provided buffer ring. Each
 * receiver touches the first byte of every payload, as bench-rx's dmad
 * client does, and stops when the flow has been quiet for a while.
 */
#ifndef TESTS_RXSOCK_H
#define TESTS_RXSOCK_H

#include <stdint.h>

struct rxsock_uring;

/* What a receiver got, and when the first and last datagram came. */
struct rxsock_count {
	uint64_t packets, bytes;
	int64_t first_ms, last_ms; /* harness_now_ms() */
};

/*
 * rxsock_open() - a UDP socket bound to RXNET_ADDR:@port with an
 * @rcvbuf-byte receive buffer (SO_RCVBUFFORCE: above rmem_max). Bails out
 * on failure.
 */
int rxsock_open(uint16_t port, int rcvbuf);

/*
 * How long a receiver waits for the first datagram (the sender is a process
 * forked on a loaded machine), and then for each next one before it takes
 * the stream to be over.
 */
#define RXSOCK_FIRST_MS 10000
#define RXSOCK_IDLE_MS	300

/*
 * rxsock_recvmmsg() - read @fd with recvmmsg() in batches of 64 datagrams
 * of up to @max bytes each, until the stream is over.
 */
struct rxsock_count rxsock_recvmmsg(int fd, uint32_t max);

/*
 * rxsock_uring_new() - a ring with a provided buffer ring of 4096 buffers
 * of @max bytes (faulted in) and one multishot recv on @fd already armed,
 * so that set-up costs nothing once the sender runs. Bails out when
 * io_uring lacks either (before Linux 6.0).
 */
struct rxsock_uring *rxsock_uring_new(int fd, uint32_t max);

/*
 * rxsock_uring_run() - read what the recv completes, giving each buffer
 * back and re-arming the recv when the kernel ends it, until the stream is
 * over.
 */
struct rxsock_count rxsock_uring_run(struct rxsock_uring *u);

void rxsock_uring_free(struct rxsock_uring *u);

#endif /* TESTS_RXSOCK_H */
