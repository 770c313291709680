/* SPDX-License-Identifier: MIT */
/*
 * A UDP flow over a veth pair, end to end: datagrams from our own sender
 * (sizes from 0 to a full MTU) and from socat, an independent one, each
 * checked by sequence, length and every byte, with the client's counts
 * equal to what the sending stack says it sent; then over IPv6. Meanwhile a plain socket on
 * another port of the same interface still gets its datagrams: the XDP
 * program passes what no flow asked for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"
#include "rxnet.h"

#define PORT	  7001
#define PASS_PORT 7002
#define N_OWN	  4000
#define N_SOCAT	  1000
#define SOCAT_LEN 512
#define N_PASS	  64
#define N_IPV6	  600
#define N_RECV	  20

static const uint32_t sizes[] = {0, 1, 63, 64, 65, 512, 1000, RXNET_MTU_PAYLOAD};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static void check_seen(const char *who, struct rxnet_seen s, uint32_t n, uint64_t bytes)
{
	ok(s.packets == n, "%s: %u of %u datagrams received", who, s.packets, n);
	ok(s.bytes == bytes, "%s: %llu of %llu payload bytes", who, (unsigned long long)s.bytes,
	   (unsigned long long)bytes);
	ok(!s.bad_seq && !s.bad_len && !s.bad_payload,
	   "%s: every sequence number, length and byte as sent (%u/%u/%u bad)", who, s.bad_seq,
	   s.bad_len, s.bad_payload);
}

static void own_sender(struct dmac_rx *rx)
{
	uint64_t out0 = rxnet_peer_udp_out(), bytes = 0;
	uint32_t empties = 0;
	struct dmac_rx_stats st;
	struct rxnet_seen s;
	pid_t pid;

	for (uint32_t k = 0; k < N_OWN; k++) {
		bytes += sizes[k % NSIZES];
		empties += sizes[k % NSIZES] == 0;
	}
	pid = rxnet_send(PORT, N_OWN, sizes, NSIZES, 200);
	s = rxnet_receive(rx, 0, N_OWN, 1, sizes, NSIZES, 3000);
	ok(harness_wait_child(pid, 10000, "sender"), "own sender sent every datagram");
	ok(rxnet_peer_udp_out() - out0 == N_OWN, "the sender's stack counted %d datagrams out",
	   N_OWN);
	check_seen("own sender", s, N_OWN, bytes);

	dmac_rx_stats(rx, &st);
	ok(st.packets == N_OWN && st.bytes == bytes, "flow counters: %llu packets, %llu bytes",
	   (unsigned long long)st.packets, (unsigned long long)st.bytes);
	ok(!st.drop_no_slot && !st.drop_too_large && !st.drop_dma_error,
	   "no drops (%llu no slot, %llu too large, %llu DMA error)",
	   (unsigned long long)st.drop_no_slot, (unsigned long long)st.drop_too_large,
	   (unsigned long long)st.drop_dma_error);
	/* copybreak 0: every payload but the empty ones goes to the engine, unless
	 * the channel's ring is full (a loaded box): then the CPU copies it. */
	ok(st.dma_copies + st.cpu_copies == N_OWN && st.dma_copies > 0 && st.cpu_copies >= empties,
	   "%llu DMA copies, %llu CPU copies (%u empty datagrams among them)",
	   (unsigned long long)st.dma_copies, (unsigned long long)st.cpu_copies, empties);
}

static void socat_sender(struct dmac_rx *rx)
{
	static uint8_t file[N_SOCAT * SOCAT_LEN];
	char path[] = "/tmp/dmad-rx-socat-XXXXXX", open_arg[64], to[64];
	const uint32_t len = SOCAT_LEN;
	struct rxnet_seen s;
	uint64_t out0;
	int fd, r;

	if (!ok(rxnet_run((char *[]){"sh", "-c", "command -v socat >/dev/null", NULL}, 10000) == 0,
		"socat runs (scripts/setup.sh installs it)"))
		return;
	for (uint32_t k = 0; k < N_SOCAT; k++)
		rxnet_payload(file + k * SOCAT_LEN, k, SOCAT_LEN);
	fd = mkstemp(path);
	if (fd < 0 || write(fd, file, sizeof(file)) != (ssize_t)sizeof(file))
		tap_bail("cannot write %s", path);
	close(fd);
	snprintf(open_arg, sizeof(open_arg), "OPEN:%s,rdonly", path);
	snprintf(to, sizeof(to), "UDP4-SENDTO:%s:%d", RXNET_ADDR, PORT);

	out0 = rxnet_peer_udp_out();
	/* A regular file reads in whole blocks: one datagram per 512 bytes. */
	r = rxnet_peer_run((char *[]){"socat", "-u", "-b", "512", open_arg, to, NULL}, 20000);
	unlink(path);
	ok(r == 0, "socat sent the file (exit %d)", r);
	ok(rxnet_peer_udp_out() - out0 == N_SOCAT, "socat's stack counted %d datagrams out",
	   N_SOCAT);
	/* Flow sequence numbers go on from the own sender's. */
	s = rxnet_receive(rx, 0, N_SOCAT, N_OWN + 1, &len, 1, 3000);
	check_seen("socat", s, N_SOCAT, (uint64_t)N_SOCAT * SOCAT_LEN);
}

static void ipv6(struct dmac_rx *rx)
{
	static const uint32_t sizes6[] = {1, 100, 1452}; /* 1452: a full MTU over IPv6 */
	struct rxnet_seen s;
	pid_t pid;

	pid = rxnet_send6(PORT, N_IPV6, sizes6, 3, 500);
	s = rxnet_receive(rx, 0, N_IPV6, N_OWN + N_SOCAT + 1, sizes6, 3, 3000);
	ok(harness_wait_child(pid, 10000, "IPv6 sender"), "IPv6 sender sent every datagram");
	ok(s.packets == N_IPV6 && !s.bad_seq && !s.bad_len && !s.bad_payload,
	   "IPv6: %u of %d datagrams, every sequence number, length and byte as sent", s.packets,
	   N_IPV6);
}

/* dmac_rx_recv(): copies out, waits, times out, says when it cut a payload short. */
static void recv_api(struct dmac_rx *rx)
{
	static const uint32_t len = 300;
	const uint32_t seq0 = N_OWN + N_SOCAT + N_IPV6 + 1;
	uint32_t good = 0, seq = 0;
	uint8_t buf[2048];
	pid_t pid;
	int r;

	r = dmac_rx_recv(rx, buf, sizeof(buf), &seq, 0);
	ok(r == -EAGAIN, "dmac_rx_recv with nothing there and no wait: %s", strerror(-r));
	r = dmac_rx_recv(rx, buf, sizeof(buf), &seq, 100);
	ok(r == -ETIMEDOUT, "dmac_rx_recv after 100 ms of nothing: %s", strerror(-r));

	pid = rxnet_send(PORT, N_RECV, &len, 1, 2000);
	for (uint32_t k = 0; k + 1 < N_RECV; k++) {
		r = dmac_rx_recv(rx, buf, sizeof(buf), &seq, 3000);
		good += r == (int)len && seq == seq0 + k && rxnet_payload_ok(buf, k, len);
	}
	ok(good == N_RECV - 1, "dmac_rx_recv copied out %u of %d datagrams intact, in order", good,
	   N_RECV - 1);
	memset(buf, 0, sizeof(buf));
	r = dmac_rx_recv(rx, buf, 10, &seq, 3000);
	ok(r == (int)len && rxnet_payload_ok(buf, N_RECV - 1, 10) && !buf[10],
	   "into a 10-byte buffer: 10 bytes copied, the full length %d returned (%d)", len, r);
	harness_wait_child(pid, 10000, "sender");
}

static void pass_through(struct dmac_rx *rx)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PASS_PORT)};
	const uint32_t len = 100;
	struct dmac_rx_stats before, after;
	uint32_t got = 0, good = 0;
	uint8_t buf[2048];
	pid_t pid;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		tap_bail("cannot bind a UDP socket to port %d: %s", PASS_PORT, strerror(errno));
	dmac_rx_stats(rx, &before);
	pid = rxnet_send(PASS_PORT, N_PASS, &len, 1, 1000);
	while (got < N_PASS) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		good += n == (ssize_t)len && rxnet_payload_ok(buf, got, len);
		got++;
	}
	harness_wait_child(pid, 10000, "sender to the plain socket");
	dmac_rx_stats(rx, &after);
	ok(got == N_PASS && good == N_PASS,
	   "a plain socket on port %d got all %d datagrams intact (%u, %u good)", PASS_PORT, N_PASS,
	   got, good);
	ok(after.packets == before.packets, "and the flow on port %d saw none of them", PORT);
	close(fd);
}

static void check_dmactl(const char *socket)
{
	char out[8192];
	const struct jv *f;
	struct jv *root;
	int r;

	r = harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), "--socket", (char *)socket,
				   "--json", "flows", NULL},
			out, sizeof(out), 10000);
	ok(r == 0, "dmactl --json flows exits 0 (%d)", r);
	root = jv_parse(out);
	f = jv_at(jv_get(root, "flows"), 0);
	ok(f && jv_num(jv_get(f, "port"), 0) == PORT &&
		   !strcmp(jv_str(jv_get(f, "interface"), ""), RXNET_IF),
	   "dmactl flows lists the flow on %s port %d", RXNET_IF, PORT);
	ok(jv_num(jv_get(f, "packets"), -1) == N_OWN + N_SOCAT + N_IPV6 + N_RECV,
	   "with its %d packets (%.0f)", N_OWN + N_SOCAT + N_IPV6 + N_RECV,
	   jv_num(jv_get(f, "packets"), -1));
	ok(jv_at(jv_get(root, "flows"), 1) == NULL, "and no other flow");
	jv_free(root);

	r = harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), "--socket", (char *)socket,
				   "flows", NULL},
			out, sizeof(out), 10000);
	ok(r == 0 && strstr(out, "udp/7001") && strstr(out, RXNET_IF),
	   "dmactl flows shows it as a table (%d)", r);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		tap_diag("%s", line);
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_rx *rx;
	struct dmac_rx_spec spec;
	int r;

	harness_watchdog(120);
	rxnet_setup();
	d = harness_dmad_start("--copybreak", "0", NULL);
	r = dmac_connect(d->socket, "rx-verify", &c);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	spec = rxnet_spec(PORT, 2048, 4096);
	r = dmac_rx_open(c, &spec, &rx);
	if (!ok(r == 0, "dmac_rx_open on %s port %d: %s", RXNET_IF, PORT, strerror(-r)))
		tap_bail("no flow");

	own_sender(rx);
	socat_sender(rx);
	ipv6(rx);
	recv_api(rx);
	pass_through(rx);
	check_dmactl(d->socket);

	dmac_rx_close(rx);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
