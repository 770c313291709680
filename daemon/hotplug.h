/* SPDX-License-Identifier: MIT */
/*
 * Devices coming and going: planned removal (drain and move), surprise
 * removal and hangs (watchdog, redo by CPU), hot-add, fault injection.
 */
#ifndef DMAD_HOTPLUG_H
#define DMAD_HOTPLUG_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* One channel a removal moved, and the outcome of the removal. */
struct hotplug_move {
	uint32_t owner_id, chan_id;
	const char *to; /* the device it went to ("cpu": dmad's CPU engine) */
	uint64_t stall_us;
};

struct hotplug_removed {
	char name[DMAD_PROTO_NAME_MAX];
	uint64_t drain_us, max_stall_us;
	bool timed_out;
	uint32_t nmoved;
	const struct hotplug_move *moved;
};

/*
 * Called once when a removal ends: @status 0 and the outcome (valid during
 * the call), -ENOMEM (released, but no room to say how), or -ECANCELED
 * (dmad stops first). @token is what hotplug_remove() was given.
 */
typedef void (*hotplug_done_fn)(int status, const struct hotplug_removed *r, void *token);

/*
 * hotplug_remove() - start draining @name; @done(@token) runs when the
 * device is released. Returns 0 (then @done will run), -ENODEV (no such
 * device), -EBUSY (already being removed), -ENOMEM.
 */
int hotplug_remove(const char *name, uint32_t timeout_ms, hotplug_done_fn done, void *token);

/*
 * hotplug_add() - probe @devargs, start the device, move CPU-fallback
 * channels onto it. Returns 0 and the device's name in @ret_name (at least
 * DMAD_PROTO_NAME_MAX bytes) and the number of channels moved, or -EINVAL
 * (bad devargs), -EEXIST, -ENODEV (probe found no usable DMA device); then
 * @ret_why (@why_size bytes) holds the first error DPDK logged, or "".
 */
int hotplug_add(const char *devargs, char *ret_name, uint32_t *ret_moved, char *ret_why,
		size_t why_size);

/*
 * hotplug_adopt() - a device just added (device_add()) takes the channels
 * on CPU fallback, and clients hear of it. @ret_moved: how many moved.
 */
void hotplug_adopt(struct device *d, uint32_t *ret_moved);

/* hotplug_surprise() - @name is gone without warning: fail it and move its channels. */
void hotplug_surprise(const char *name);

/* hotplug_fault() - inject @fault into @name. -ENODEV, -EINVAL. */
int hotplug_fault(const char *name, uint32_t fault);

/*
 * hotplug_balance_tick() - from the control tick (@now_ms monotonic): move
 * a channel off an engine that has long carried more than twice the mean
 * load, and finish a move once the channel drained (hotplug_balance.c).
 */
void hotplug_balance_tick(uint64_t now_ms);

/*
 * hotplug_balance_finish() - finish a move hotplug_balance_tick() started
 * once its channel drained, and start none. Returns true while one waits.
 */
bool hotplug_balance_finish(uint64_t now_ms);
/* hotplug_tick() - watchdog and drain progress. Returns true while a drain runs. */
bool hotplug_tick(void);
/*
 * hotplug_settle() - dmad stops (not a restart: that hands such channels
 * on as they are): end every drain now, what its device did not complete
 * redone by the CPU, and finish a rebalance's move, so that every channel
 * is on a device when the workers finish what was issued. The workers
 * still run.
 */
void hotplug_settle(void);

/* hotplug_shutdown() - drop unfinished drains, after the workers stopped. */
void hotplug_shutdown(void);

/* hotplug_monitor_start() - route DPDK's device REMOVE events to hotplug_surprise(). */
int hotplug_monitor_start(int *ret_fd);
void hotplug_monitor_read(int fd);

#endif /* DMAD_HOTPLUG_H */
