/* SPDX-License-Identifier: MIT */
/*
 * A client whose copies are held by a hung device: the way to keep a
 * removal DRAINING for as long as a test needs to look at it. The daemon
 * must run with --fault-injection and a --watchdog-ms longer than the test,
 * so that only the removal's own --timeout ends the drain; then the CPU
 * redoes the copies and they must complete, in order and byte-exact.
 */
#ifndef TESTS_HOTPLUG_STUCK_H
#define TESTS_HOTPLUG_STUCK_H

#include <stdbool.h>

#include "dmaclient.h"

#define STUCK_COPIES 16 /* queued by stuck_start() */
#define STUCK_MAX    32 /* room for stuck_queue() to add more */

struct stuck {
	struct dmac_client *client;
	struct dmac_chan *ch;
	uint8_t *mem;
	dmac_cookie_t cookie[STUCK_MAX];
	unsigned int n;
	char dev[32]; /* the device that hangs */
};

/*
 * stuck_start() - connect to @socket as @name, take a channel, inject a hang
 * into its device (with dmactl), queue STUCK_COPIES copies and check that
 * they do not complete. Returns true when all of that went as expected.
 */
bool stuck_start(struct stuck *s, const char *socket, const char *name);

/* Queue and issue one more copy behind the others (-EAGAIN once STUCK_MAX are queued). */
dmac_cookie_t stuck_queue(struct stuck *s);

/* Wait up to @timeout_ms for every copy; true when all completed and match. */
bool stuck_finish(struct stuck *s, int timeout_ms);

/* Put the channel and disconnect. */
void stuck_fini(struct stuck *s);

#endif /* TESTS_HOTPLUG_STUCK_H */
