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
	uint32_t flags = 0;
	int r = raw_ring_flags(socket, "no-engine-raw", &flags);

	ok(r == 0 && (flags & DMAD_PROTO_RF_CPU),
	   "a raw CHAN_GET's ring carries DMAD_PROTO_RF_CPU (%d, flags %#x)", r, flags);
}

int main(void)
{
	struct harness_dmad *d;
	struct copier k;
	int r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "0", NULL);
	r = copier_init(&k, d->socket, "no-engine", 1 << 20, 4 << 20, 256 << 10, 21);
	if (!ok(r == 0, "a channel without any engine (%d)", r))
		return tap_done();
	ok(strcmp(dmac_chan_device(k.ch), "") == 0, "the channel is on the CPU (device \"%s\")",
	   dmac_chan_device(k.ch));

	/* Even copies the copybreak would send to an engine. */
	r = copier_ring_and_fill(&k, ROUNDS);
	ok(r == 0,
	   "%u rounds of random copies through the ring and a fill verified, guards "
	   "intact (%d)",
	   ROUNDS, r);
	copier_fini(&k);
	check_ring_flag(d->socket);
	harness_dmad_finish(d);
	return tap_done();
}
