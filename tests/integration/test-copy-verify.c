/* SPDX-License-Identifier: MIT */
/*
 * Several client processes copy at once, each thousands of random-size,
 * random-offset copies between its own regions, half of them with every
 * copy going through the daemon (copybreak 0), half with the library's
 * default copybreak so small copies take the CPU path in between. Every
 * destination, its guard bytes and its source are checked after each round.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"

#define CLIENTS	  4
#define COPIES	  3000
#define PER_ROUND 48
#define MAX_LEN	  (256u << 10)
#define SRC_LEN	  (1u << 20)
#define DST_LEN	  (4u << 20)

static void client_main(const char *socket, int idx)
{
	bool engine_only = idx % 2 == 0;
	char name[32];
	struct copier k;
	int r;

	/* Read by the library when the channel is made. */
	if (engine_only)
		setenv("DMAC_COPYBREAK", "0", 1);
	else
		unsetenv("DMAC_COPYBREAK");
	snprintf(name, sizeof(name), "copy-verify-%d", idx);
	if (copier_init(&k, socket, name, SRC_LEN, DST_LEN, MAX_LEN, 1000u + (uint32_t)idx) < 0)
		_exit(1);
	if (engine_only && dmac_chan_copybreak(k.ch) != 0) {
		tap_diag("%s: DMAC_COPYBREAK=0 but the channel's copybreak is %zu", name,
			 dmac_chan_copybreak(k.ch));
		_exit(1);
	}
	while (k.copies < COPIES) {
		r = copier_round(&k, PER_ROUND);
		if (r < 0) {
			tap_diag("%s: after %llu good copies: %s", name,
				 (unsigned long long)k.copies, strerror(-r));
			_exit(1);
		}
	}
	tap_diag("%s: %llu copies, %llu bytes verified (copybreak %zu, device \"%s\")", name,
		 (unsigned long long)k.copies, (unsigned long long)k.bytes,
		 dmac_chan_copybreak(k.ch), dmac_chan_device(k.ch));
	copier_fini(&k);
	_exit(0);
}

int main(void)
{
	struct harness_dmad *d;
	pid_t pid[CLIENTS];

	harness_watchdog(240);
	d = harness_dmad_start(NULL);
	for (int i = 0; i < CLIENTS; i++) {
		pid[i] = harness_fork();
		if (pid[i] == 0)
			client_main(d->socket, i);
	}
	for (int i = 0; i < CLIENTS; i++) {
		char what[32];

		snprintf(what, sizeof(what), "client %d", i);
		ok(harness_wait_child(pid[i], 200000, what),
		   "client %d (%s) verified %d random copies with guards and sources intact", i,
		   i % 2 ? "default copybreak" : "copybreak 0", COPIES);
	}
	ok(harness_dmad_alive(d), "dmad still running");
	harness_dmad_finish(d);
	return tap_done();
}
