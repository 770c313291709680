/* SPDX-License-Identifier: MIT */
/*
 * Flows the daemon must refuse, each with its own error, and the drops it
 * must count: a payload longer than a slot, and datagrams that find every
 * slot held by the client, as a monitor (MONITOR, dmactl monitor) hears of
 * them too. The daemon keeps serving throughout.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "rawproto.h"
#include "rxnet.h"

#define PORT 7101

static void refused(struct dmac_client *c, struct dmac_rx_spec spec, int want, const char *what)
{
	struct dmac_rx *rx = NULL;
	int r = dmac_rx_open(c, &spec, &rx);

	ok(r == want, "%s: %s (want %s)", what, strerror(-r), strerror(-want));
	if (r == 0)
		dmac_rx_close(rx);
}

static void bad_specs(struct dmac_client *c, struct dmac_client *c2)
{
	struct dmac_rx_spec s = rxnet_spec(PORT, 2048, 64);
	struct dmac_rx *rx, *rx2;
	int r;

	s.ifname = "nosuch0";
	refused(c, s, -ENXIO, "an unknown interface");
	s = rxnet_spec(PORT, 2048, 64);
	s.queue = 5;
	refused(c, s, -ENXIO, "a queue the interface lacks");
	refused(c, rxnet_spec(0, 2048, 64), -EINVAL, "port 0");
	refused(c, rxnet_spec(PORT, 32, 64), -EMSGSIZE, "a 32-byte slot");
	refused(c, rxnet_spec(PORT, 2048, 0), -EINVAL, "no slots");
	refused(c, rxnet_spec(PORT, 2048, 100), -EINVAL, "a slot count not a power of two");
	refused(c, rxnet_spec(PORT, 65536, 65536), -EDQUOT, "a 4 GiB receive area");
	s = rxnet_spec(PORT, 2048, 64);
	s.proto = 6;
	refused(c, s, -EPROTONOSUPPORT, "TCP");

	s = rxnet_spec(PORT, 2048, 64);
	r = dmac_rx_open(c, &s, &rx);
	ok(r == 0, "a good flow on port %d after all that: %s", PORT, strerror(-r));
	refused(c2, s, -EADDRINUSE, "a second client on the same port");
	refused(c, s, -EADDRINUSE, "the same client on the same port again");
	if (r == 0)
		dmac_rx_close(rx);
	r = dmac_rx_open(c2, &s, &rx2);
	ok(r == 0, "once closed, the port is the second client's: %s", strerror(-r));
	if (r == 0)
		dmac_rx_close(rx2);
}

/* What a monitor (dmactl monitor) heard of flow drops within @ms: their sum. */
static uint64_t monitored_drops(int mon, int ms)
{
	uint64_t sum = 0;

	for (int64_t end = harness_now_ms() + ms; harness_now_ms() < end;) {
		struct dmad_proto_hdr h;
		struct dmad_proto_monitor_event e;
		struct iovec iov[2] = {{&h, sizeof(h)}, {&e, sizeof(e)}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		struct pollfd p = {.fd = mon, .events = POLLIN};

		if (poll(&p, 1, 100) > 0 && recvmsg(mon, &mh, 0) == sizeof(h) + sizeof(e) &&
		    h.type == DMAD_PROTO_MONITOR_EVENT && e.type == DMAD_PROTO_MON_FLOW_DROPS)
			sum += e.count;
	}
	return sum;
}

static void drops(struct dmac_client *c, const char *socket)
{
	struct raw_msg msg;
	int mon = raw_connect(socket);
	static const uint32_t sizes[] = {64, 65, 10, 10, 10, 10, 10, 10};
	struct dmac_rx_spec s = rxnet_spec(PORT, 64, 4);
	struct dmac_rx_stats st = {0};
	struct dmac_rx_pkt p[8];
	struct dmac_rx *rx;
	int r, n = 0;
	pid_t pid;

	ok(raw_hello(mon, "monitor") == 0 &&
		   raw_request(mon, DMAD_PROTO_MONITOR, NULL, 0, NULL, 0, &msg) == 0,
	   "a monitor listens");
	r = dmac_rx_open(c, &s, &rx);
	if (!ok(r == 0, "a flow with 4 slots of 64 bytes: %s", strerror(-r)))
		return;
	/* Nothing released: slots run out after four datagrams. */
	pid = rxnet_send(PORT, 8, sizes, 8, 0);
	harness_wait_child(pid, 10000, "sender");
	for (int64_t end = harness_now_ms() + 3000; harness_now_ms() < end;) {
		dmac_rx_stats(rx, &st);
		if (st.packets + st.drop_too_large + st.drop_no_slot == 8)
			break;
	}
	n = dmac_rx_peek(rx, p, 8);
	ok(st.drop_too_large == 1,
	   "a 65-byte payload for 64-byte slots dropped as too large (%llu)",
	   (unsigned long long)st.drop_too_large);
	ok(st.packets == 4 && st.drop_no_slot == 3,
	   "4 delivered, then 3 dropped for want of a slot (%llu, %llu)",
	   (unsigned long long)st.packets, (unsigned long long)st.drop_no_slot);
	ok(n == 4 && p[0].seq == 1 && p[0].len == 64 && p[1].seq == 3 && p[3].seq == 5 &&
		   rxnet_payload_ok(p[0].data, 0, 64) && rxnet_payload_ok(p[1].data, 2, 10),
	   "the client sees 4 payloads, seq 1, 3, 4, 5: the gaps are the drops");
	/* Summed over a second at most: one or two records, never one a datagram. */
	ok(monitored_drops(mon, 2500) == 4, "the monitor heard of the 4 drops, summed");
	close(mon);
	dmac_rx_release(rx, 4);
	dmac_rx_close(rx);
}

/*
 * Drops in a round of the rx thread that publishes nothing (every slot
 * already held) still reach the client's counters, which the area mirrors.
 */
static void drops_alone(struct dmac_client *c)
{
	static const uint32_t sizes[] = {10};
	struct dmac_rx_spec s = rxnet_spec(PORT, 64, 2);
	struct dmac_rx_stats st = {0};
	struct dmac_rx *rx;
	pid_t pid;
	int r;

	r = dmac_rx_open(c, &s, &rx);
	if (!ok(r == 0, "a flow with 2 slots of 64 bytes: %s", strerror(-r)))
		return;
	pid = rxnet_send(PORT, 2, sizes, 1, 0);
	harness_wait_child(pid, 10000, "sender");
	for (int64_t end = harness_now_ms() + 3000; harness_now_ms() < end && st.packets < 2;)
		dmac_rx_stats(rx, &st);
	/* Both slots held, none released: these only add drops. */
	pid = rxnet_send(PORT, 3, sizes, 1, 0);
	harness_wait_child(pid, 10000, "sender");
	for (int64_t end = harness_now_ms() + 3000; harness_now_ms() < end && st.drop_no_slot < 3;)
		dmac_rx_stats(rx, &st);
	ok(st.packets == 2 && st.drop_no_slot == 3,
	   "2 delivered, then 3 dropped with nothing published: the client's counters say so "
	   "(%llu, %llu)",
	   (unsigned long long)st.packets, (unsigned long long)st.drop_no_slot);
	dmac_rx_close(rx);
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c, *c2;
	int r;

	harness_watchdog(60);
	rxnet_setup();
	d = harness_dmad_start("--copybreak", "0", NULL);
	r = dmac_connect(d->socket, "rx-bad-spec", &c);
	if (r == 0)
		r = dmac_connect(d->socket, "rx-bad-spec-2", &c2);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));

	bad_specs(c, c2);
	drops(c, d->socket);
	drops_alone(c);

	dmac_disconnect(c2);
	dmac_disconnect(c);
	ok(harness_dmad_alive(d), "dmad still runs");
	harness_dmad_finish(d);
	return tap_done();
}
