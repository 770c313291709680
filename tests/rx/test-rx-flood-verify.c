/* SPDX-License-Identifier: MIT */
/*
 * An unpaced sender, so that the rx thread works in batches (it naps while
 * a stream flows and takes up to a ring's worth a round), once with every
 * payload copied by the rx thread and once by the engine, over a 9000-byte
 * MTU so that some datagrams span several AF_XDP buffers. The kernel may
 * drop what the rx thread has no room for, so this checks what was
 * delivered, not how much: each payload carries its datagram number, and
 * every delivered one must be whole (its length as sent, every byte), in
 * send order, with flow sequence numbers that only grow, and counted.
 */
#include <poll.h>
#include <string.h>

#include "harness.h"
#include "rxnet.h"

#define PORT 7601
#define N    20000
#define MTU  9000
/* The stream is over after this long without a record (the sender is unpaced). */
#define IDLE_MS 2000

/* Every one holds its number; 8000 takes three frames, 3799 two. */
static const uint32_t sizes[] = {64, 1000, 8000, 4, 3799, 200};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct seen {
	uint32_t packets, bad_len, bad_payload, bad_order;
	int unwoken; /* records there when the eventfd had said nothing for IDLE_MS */
	uint64_t bytes;
};

static void check(struct seen *s, const struct dmac_rx_pkt *p, int64_t *last_k, uint32_t *last_seq)
{
	uint32_t k;

	s->packets++;
	s->bytes += p->len;
	if (p->len < 4) {
		s->bad_len++;
		return;
	}
	memcpy(&k, p->data, 4);
	if (k >= N || p->len != sizes[k % NSIZES])
		s->bad_len++;
	else if (!rxnet_payload_ok(p->data, k, p->len))
		s->bad_payload++;
	if ((int64_t)k <= *last_k || p->seq <= *last_seq)
		s->bad_order++;
	*last_k = k;
	*last_seq = p->seq;
}

static struct seen receive(struct dmac_rx *rx)
{
	struct seen s = {0};
	int64_t last_k = -1;
	uint32_t last_seq = 0;

	for (;;) {
		struct dmac_rx_pkt p[64];
		int got = dmac_rx_peek(rx, p, 64);

		if (got < 0)
			tap_bail("dmac_rx_peek: %s", strerror(-got));
		if (got == 0) {
			struct pollfd pfd = {.fd = dmac_rx_fd(rx), .events = POLLIN};

			if (poll(&pfd, 1, s.packets ? IDLE_MS : 10000) == 0) {
				/* A record the daemon published without a wake-up would be here. */
				s.unwoken = dmac_rx_peek(rx, p, 64);
				break;
			}
			continue;
		}
		for (int i = 0; i < got; i++)
			check(&s, &p[i], &last_k, &last_seq);
		dmac_rx_release(rx, (unsigned)got);
	}
	return s;
}

static void flood(struct dmac_client *c, const char *how, uint32_t copybreak)
{
	struct dmac_rx_spec spec = rxnet_spec(PORT, MTU, 4096);
	struct dmac_rx_stats st;
	struct dmac_rx *rx;
	struct seen s;
	pid_t sender;
	int r;

	spec.flags = DMAC_RX_SET_COPYBREAK;
	spec.copybreak = copybreak;
	r = dmac_rx_open(c, &spec, &rx);
	if (!ok(r == 0, "%s: a flow: %s", how, strerror(-r)))
		tap_bail("no flow");
	sender = rxnet_send(PORT, N, sizes, NSIZES, 0);
	s = receive(rx);
	ok(harness_wait_child(sender, 30000, "sender"), "%s: the sender sent all %d", how, N);
	ok(s.packets > 0, "%s: %u of %d datagrams delivered", how, s.packets, N);
	ok(s.unwoken == 0, "%s: none left unread when the eventfd went quiet (%d)", how, s.unwoken);
	ok(!s.bad_len && !s.bad_payload && !s.bad_order,
	   "%s: each whole, every byte as sent, in order (%u/%u/%u bad)", how, s.bad_len,
	   s.bad_payload, s.bad_order);
	dmac_rx_stats(rx, &st);
	ok(st.packets == s.packets && st.bytes == s.bytes && !st.drop_dma_error,
	   "%s: the flow counted %llu delivered, %llu by DMA, %llu by CPU, %llu with no slot", how,
	   (unsigned long long)st.packets, (unsigned long long)st.dma_copies,
	   (unsigned long long)st.cpu_copies, (unsigned long long)st.drop_no_slot);
	if (copybreak)
		ok(st.dma_copies == 0, "%s: no payload went to the engine", how);
	else
		ok(st.dma_copies > 0, "%s: the engine copied payloads", how);
	dmac_rx_close(rx);
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	int r;

	harness_watchdog(120);
	rxnet_setup();
	rxnet_set_mtu(MTU);
	d = harness_dmad_start("--copybreak", "0", NULL);
	r = dmac_connect(d->socket, "rx-flood-verify", &c);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	flood(c, "rx thread copies", UINT32_MAX);
	flood(c, "engine copies", 0);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
