/* SPDX-License-Identifier: MIT */
/*
 * A flow follows its channel through device removals: the engine copying a
 * stream's payloads is removed mid-stream (`dmactl remove`), then the one
 * it moved to, so the flow ends on dmad's CPU engine, then a device is
 * added and the flow comes back to it. Every datagram that reached the
 * socket is delivered, in order, byte for byte.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "jsonread.h"
#include "rxnet.h"

#define PORT	 7301
#define N	 8000
#define PER_STEP (N / 4)

static const uint32_t sizes[] = {64, 512, 1472, 200, 9};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* The flow's device as `dmactl flows` shows it, into @dev. */
static void flow_device(const char *socket, char dev[64])
{
	char out[8192];
	struct jv *root;
	int r;

	r = harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), "--socket", (char *)socket,
				   "--json", "flows", NULL},
			out, sizeof(out), 10000);
	root = r == 0 ? jv_parse(out) : NULL;
	snprintf(dev, 64, "%s",
		 jv_str(jv_get(jv_at(jv_get(root, "flows"), 0), "device"), "(dmactl failed)"));
	jv_free(root);
}

static int dmactl_run(const char *socket, const char *cmd, const char *dev)
{
	char out[4096];

	return harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), "--socket", (char *)socket,
				      (char *)cmd, (char *)dev, NULL},
			   out, sizeof(out), 30000);
}

static bool step(struct dmac_rx *rx, uint32_t k0, const char *what)
{
	struct rxnet_seen s = rxnet_receive(rx, k0, PER_STEP, 1, sizes, NSIZES, 5000);

	ok(s.packets == PER_STEP && !s.bad_seq && !s.bad_len && !s.bad_payload,
	   "%s: datagrams %u..%u all delivered intact and in order (%u, bad %u/%u/%u)", what, k0,
	   k0 + PER_STEP - 1, s.packets, s.bad_seq, s.bad_len, s.bad_payload);
	return s.packets == PER_STEP;
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_rx *rx;
	struct dmac_rx_spec spec = rxnet_spec(PORT, 2048, 8192);
	struct dmac_rx_stats st, on_cpu;
	char dev0[64], dev1[64], dev2[64], dev3[64];
	pid_t sender;
	int r;

	harness_watchdog(120);
	rxnet_setup();
	d = harness_dmad_start("--copybreak", "0", "--engines", "2", NULL);
	r = dmac_connect(d->socket, "rx-remove", &c);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	r = dmac_rx_open(c, &spec, &rx);
	if (!ok(r == 0, "flow opened: %s", strerror(-r)))
		tap_bail("no flow");
	flow_device(d->socket, dev0);
	ok(!strncmp(dev0, "dma_skeleton", 12), "the flow copies on %s", dev0);

	/* About 2 s of stream; the slots hold all of it while we are away. */
	sender = rxnet_send(PORT, N, sizes, NSIZES, 5000);
	step(rx, 0, "before any removal");

	r = dmactl_run(d->socket, "remove", dev0);
	ok(r == 0, "dmactl remove %s mid-stream (exit %d)", dev0, r);
	flow_device(d->socket, dev1);
	ok(strcmp(dev1, dev0) && !strncmp(dev1, "dma_skeleton", 12), "the flow moved to %s", dev1);
	step(rx, PER_STEP, "across the first removal");

	r = dmactl_run(d->socket, "remove", dev1);
	ok(r == 0, "dmactl remove %s, the last engine (exit %d)", dev1, r);
	flow_device(d->socket, dev2);
	ok(!strcmp(dev2, "cpu"), "the flow moved to dmad's CPU engine (%s)", dev2);
	dmac_rx_stats(rx, &on_cpu);
	step(rx, 2 * PER_STEP, "across the second removal");
	dmac_rx_stats(rx, &st);
	/* dmad's CPU engine is no DMA: what it copies counts as CPU copies. */
	ok(st.dma_copies == on_cpu.dma_copies,
	   "no payload counted as DMA while the flow is on dmad's CPU engine (%llu more)",
	   (unsigned long long)(st.dma_copies - on_cpu.dma_copies));

	r = dmactl_run(d->socket, "add", "dma_skeleton5");
	ok(r == 0, "dmactl add dma_skeleton5 (exit %d)", r);
	flow_device(d->socket, dev3);
	ok(!strcmp(dev3, "dma_skeleton5"), "the flow came back from the CPU to %s", dev3);
	step(rx, 3 * PER_STEP, "after the add");

	ok(harness_wait_child(sender, 20000, "sender"), "the sender sent all %d", N);
	dmac_rx_stats(rx, &st);
	ok(st.packets == N && !st.drop_no_slot && !st.drop_too_large && !st.drop_dma_error,
	   "flow counters: %llu packets, no drops", (unsigned long long)st.packets);
	tap_diag("%llu payloads copied by engines, %llu by the rx thread's CPU",
		 (unsigned long long)st.dma_copies, (unsigned long long)st.cpu_copies);

	dmac_rx_close(rx);
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
