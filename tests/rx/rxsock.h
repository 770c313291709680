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
 * rxsock_recvmmsg() - read @fd with recvmmsg() in batches of 64 datagrams
 * of up to @max bytes each, until nothing came for @idle_ms.
 */
struct rxsock_count rxsock_recvmmsg(int fd, uint32_t max, int idle_ms);

/*
 * rxsock_uring() - read @fd with one io_uring multishot recv (re-armed when
 * the kernel ends it) selecting buffers of @max bytes from a provided
 * buffer ring, until nothing came for @idle_ms. Bails out when io_uring
 * lacks either (before Linux 6.0).
 */
struct rxsock_count rxsock_uring(int fd, uint32_t max, int idle_ms);

#endif /* TESTS_RXSOCK_H */
