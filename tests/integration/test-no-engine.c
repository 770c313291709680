/* SPDX-License-Identifier: MIT */
/*
 * With no engine at all (`--engines 0`) a client still gets a channel, on
 * the CPU: copies and fills of every size work and are right, and waiting
 * on them returns at once.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define ROUNDS 20

/* What the daemon tells the library: this ring has no engine behind it. */
static void check_ring_flag(const char *socket)
{
	struct raw_chan ch;
	int fd = raw_connect(socket), r = -1;

	if (fd >= 0 && raw_hello(fd, "no-engine-raw") == 0)
		r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch);
	if (!ok(r == 0, "raw CHAN_GET (%d)", r))
		return;
	ok(ch.ring->flags & DMAD_PROTO_RF_CPU, "the ring carries DMAD_PROTO_RF_CPU (flags %#x)",
	   ch.ring->flags);
	raw_chan_unmap(&ch);
	close(fd);
}

int main(void)
{
	struct harness_dmad *d;
	struct copier k;
	unsigned int i;
	const uint64_t pattern = 0x0807060504030201ull;
	uint8_t buf8[8];
	dmac_cookie_t c;
	int r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "0", NULL);
	r = copier_init(&k, d->socket, "no-engine", 1 << 20, 4 << 20, 256 << 10, 21);
	if (!ok(r == 0, "a channel without any engine (%d)", r))
		return tap_done();
	ok(strcmp(dmac_chan_device(k.ch), "") == 0, "the channel is on the CPU (device \"%s\")",
	   dmac_chan_device(k.ch));

	/* Even copies the copybreak would send to an engine. */
	dmac_chan_set_copybreak(k.ch, 0);
	for (i = 0, r = 0; i < ROUNDS && r == 0; i++)
		r = copier_round(&k, 32);
	ok(r == 0, "%u rounds of random copies verified, guards intact (%d)", i, r);

	memcpy(buf8, &pattern, sizeof(buf8));
	c = dmac_fill(k.ch, k.dst + 3, pattern, 1000, 0);
	ok(c >= 0 && dmac_wait(k.ch, c, 1000) == 0, "a fill completes (%d)", c);
	for (i = 0; i < 1000 && k.dst[3 + i] == buf8[i % 8]; i++)
		;
	ok(i == 1000, "the fill wrote its pattern (first wrong byte %u)", i);
	ok(dmac_is_complete(k.ch, c) == DMAC_COMPLETE, "and reports DMAC_COMPLETE");
	copier_fini(&k);
	check_ring_flag(d->socket);
	harness_dmad_finish(d);
	return tap_done();
}
