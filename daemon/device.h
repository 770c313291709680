/* SPDX-License-Identifier: MIT */
/* DMA devices: probe, configure, start, pick for a channel, release. */
#ifndef DMAD_DEVICE_H
#define DMAD_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/*
 * device_setup_all() - configure and start every dmadev EAL probed (vdevs
 * from --vdev, PCI devices from -a). A device that cannot copy memory to
 * memory is skipped with a notice. Control thread, before workers start.
 * Returns the number of devices started, or a negative errno.
 */
int device_setup_all(void);

/*
 * device_setup_one() - configure, calibrate, start dmadev @id and give it to
 * a worker. Returns 0, -ENOTSUP (cannot copy memory to memory), -ENOSPC,
 * -ENOMEM, or DPDK's error.
 */
int device_setup_one(int16_t id, struct device **ret_dev);

/* device_cpu_create() - the CPU engine channels fall back to (dmad.cpu). */
int device_cpu_create(void);

/* Give @d to the least loaded worker / take it back (RCU, control thread). */
int device_publish(struct device *d);
void device_unpublish(struct device *d);

/* device_release() - stop, close and detach from DPDK. Control thread. */
void device_release(struct device *d);

/* The ONLINE device with @caps carrying the fewest channels, or NULL. */
struct device *device_pick(uint32_t caps);

/* Does any device need regions registered for DMA (no SVA)? */
bool device_any_needs_dma_map(void);
int device_dma_map_all(void *va, uint64_t iova, size_t len);
void device_dma_unmap_all(void *va, uint64_t iova, size_t len);

const char *device_state_name(uint32_t state);

/* The watchdog bound for @d: --watchdog-ms, else 100 ms (1 s for software engines). */
uint32_t device_watchdog_ms(const struct device *d);

/* calib.c: smallest copy worth sending to @d rather than memcpy, in bytes. */
uint32_t device_calibrate(struct device *d);

#endif /* DMAD_DEVICE_H */
