/* SPDX-License-Identifier: MIT */
/*
 * Datagrams larger than one UMEM frame, on a 9000-byte MTU: the kernel
 * hands them over as several AF_XDP buffers, and dmad copies each into one
 * slot with one descriptor per buffer, recycling the frames only once the
 * last copy has landed. Every byte is checked, at each size around a frame's
 * boundary and up to the largest payload the MTU carries.
 */
#include <string.h>

#include "harness.h"
#include "rxnet.h"

#define PORT 7501
#define N    3000
#define MTU  9000

/* 3798: the most payload one 3840-byte frame holds after 42 bytes of headers. */
static const uint32_t sizes[] = {3798, 3799, 1, 7637, 7638, 8000, MTU - 28, 1472, 4096};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

int main(void)
{
	struct dmac_rx_spec spec = rxnet_spec(PORT, MTU, 4096);
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_rx_stats st;
	struct rxnet_seen s;
	struct dmac_rx *rx;
	uint64_t bytes = 0;
	pid_t sender;
	int r;

	harness_watchdog(90);
	rxnet_setup();
	rxnet_set_mtu(MTU);
	d = harness_dmad_start("--copybreak", "0", NULL);
	r = dmac_connect(d->socket, "rx-jumbo", &c);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	r = dmac_rx_open(c, &spec, &rx);
	if (!ok(r == 0, "a flow with %d-byte slots: %s", MTU, strerror(-r)))
		tap_bail("no flow");

	for (uint32_t k = 0; k < N; k++)
		bytes += sizes[k % NSIZES];
	/* Three frames a datagram: a pace the RX ring absorbs on a loaded 2-CPU box. */
	sender = rxnet_send(PORT, N, sizes, NSIZES, 3000);
	s = rxnet_receive(rx, 0, N, 1, sizes, NSIZES, 3000);
	ok(harness_wait_child(sender, 20000, "sender"), "the sender sent all %d", N);
	ok(s.packets == N && s.bytes == bytes, "%u of %d datagrams, %llu of %llu bytes", s.packets,
	   N, (unsigned long long)s.bytes, (unsigned long long)bytes);
	ok(!s.bad_seq && !s.bad_len && !s.bad_payload,
	   "every sequence number, length and byte as sent (%u/%u/%u bad)", s.bad_seq, s.bad_len,
	   s.bad_payload);
	dmac_rx_stats(rx, &st);
	ok(st.packets == N && !st.drop_no_slot && !st.drop_too_large && !st.drop_dma_error,
	   "flow counters: %llu packets, no drops", (unsigned long long)st.packets);
	ok(st.dma_copies > 0, "%llu payloads by DMA, %llu by CPU",
	   (unsigned long long)st.dma_copies, (unsigned long long)st.cpu_copies);

	dmac_rx_close(rx);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
