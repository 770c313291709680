/* SPDX-License-Identifier: MIT */
/*
 * What the receive offload tests share: a veth pair between two network
 * namespaces, senders in the peer namespace, and the payload pattern both
 * sides compute.
 *
 * The namespaces are anonymous (unshare, not `ip netns add`): the test
 * process moves itself into the first, so dmad and the client it starts run
 * there, and holds the second by an fd. Nothing is mounted or named, so
 * when the test ends, however it ends (a failed check, a bail out, meson's
 * timeout, SIGKILL), both namespaces and the veth pair go with it.
 */
#ifndef TESTS_RXNET_H
#define TESTS_RXNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmaclient.h"

#define RXNET_IF	  "dmrx0" /* dmad's side, in the test's namespace */
#define RXNET_PEER_IF	  "dmrx1"
#define RXNET_ADDR	  "10.201.0.1"
#define RXNET_PEER_ADDR	  "10.201.0.2"
#define RXNET_ADDR6	  "fd00:201::1"
#define RXNET_PEER_ADDR6  "fd00:201::2"
#define RXNET_MTU_PAYLOAD 1472 /* the largest UDP payload a 1500-byte MTU carries whole */

/*
 * rxnet_setup() - move this process into a new network namespace, make a
 * second, join them with a veth pair (addresses and neighbours set, so no
 * ARP races the first datagrams). Skips the whole test when not root or
 * when the kernel lacks namespaces or veth; bails out on anything else.
 */
void rxnet_setup(void);

/* rxnet_set_mtu() - set the MTU of both ends of the veth pair. */
void rxnet_set_mtu(unsigned mtu);

/* rxnet_peer_fork() - fork a child that runs in the peer namespace. */
pid_t rxnet_peer_fork(void);

/*
 * rxnet_peer_run() - run @argv (argv[0] a program looked up in PATH) in the
 * peer namespace, stdout and stderr to the TAP stream as diagnostics.
 * Returns its exit code, -signo, or -ETIMEDOUT after @timeout_ms.
 */
int rxnet_peer_run(char *const argv[], int timeout_ms);

/* rxnet_run() - the same, in the test's own namespace. */
int rxnet_run(char *const argv[], int timeout_ms);

/*
 * rxnet_xdp_prog() - the name of the XDP program attached to RXNET_IF, as
 * `ip link` shows it, into @name (size @size); "" when there is none.
 */
void rxnet_xdp_prog(char *name, size_t size);

/* Udp OutDatagrams in the peer namespace: what its stack says it sent. */
uint64_t rxnet_peer_udp_out(void);

/*
 * Where the kernel dropped datagrams on their way in, as counters that only
 * grow: the sending veth's transmit drops (its peer's queue was full: with
 * an XDP program on RXNET_IF, a ring of 256 frames that NAPI drains), and
 * UDP's receive buffer errors (a socket's buffer full). What an AF_XDP
 * socket dropped, its owner (dmad) counts.
 */
struct rxnet_drops {
	uint64_t veth_tx, udp_rcvbuf;
	uint64_t udp_noports; /* reached the stack with no socket on its port */
};
struct rxnet_drops rxnet_drops(void);

/* The payload of datagram @k (from 0), @len bytes; its first 4 bytes hold @k. */
void rxnet_payload(uint8_t *buf, uint32_t k, uint32_t len);
bool rxnet_payload_ok(const uint8_t *buf, uint32_t k, uint32_t len);

/*
 * rxnet_send() - fork a sender in the peer namespace: @n datagrams to
 * RXNET_ADDR:@port, datagram k of sizes[k % nsizes] bytes and rxnet_payload()
 * content, pausing @pace_us after every 16. Returns its pid (it exits 0 when
 * every sendto() succeeded).
 */
pid_t rxnet_send(uint16_t port, uint32_t n, const uint32_t *sizes, unsigned nsizes,
		 unsigned pace_us);

/* rxnet_send6() - the same over IPv6, to RXNET_ADDR6. */
pid_t rxnet_send6(uint16_t port, uint32_t n, const uint32_t *sizes, unsigned nsizes,
		  unsigned pace_us);

/* What a receiver saw of a stream from rxnet_send() or the same pattern. */
struct rxnet_seen {
	uint32_t packets;
	uint64_t bytes;
	uint32_t bad_seq;     /* flow seq not the next one, or not the datagram's own */
	uint32_t bad_len;     /* not the size the sender used for that datagram */
	uint32_t bad_payload; /* a byte differs from the pattern */
};

/*
 * rxnet_receive() - read datagrams @k0 .. @k0 + @n - 1 of a stream from @rx
 * in place (peek/release in batches), checking each one's sequence number
 * (datagram k is flow seq @seq0 + k), its length (sizes[k % nsizes]) and
 * every byte. Sleeps on dmac_rx_fd() when there is nothing. Stops after @n,
 * or when nothing came for @idle_ms. Returns what it saw.
 */
struct rxnet_seen rxnet_receive(struct dmac_rx *rx, uint32_t k0, uint32_t n, uint32_t seq0,
				const uint32_t *sizes, unsigned nsizes, int idle_ms);

/* The ready-made spec of a flow on RXNET_IF. */
struct dmac_rx_spec rxnet_spec(uint16_t port, uint32_t slot_size, uint32_t slot_count);

#endif /* TESTS_RXNET_H */
