/* SPDX-License-Identifier: MIT */
/* DMA devices: probe, configure, start, pick for a channel, release. */
#ifndef DMAD_DEVICE_H
#define DMAD_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/*
 * A device is made by its engine (engine.h): device_new() with the engine's
 * operations, the engine fills in name, driver, capa, nb_desc and its
 * quirks, then device_add() calibrates it, gives it to a worker and lists
 * it in dmad.devs (device_start() does the middle part alone, for the CPU
 * engine, which is no DMA device). device_free() undoes device_new().
 * Control thread. device_add() returns 0, -ENOSPC, -ENOMEM.
 */
struct device *device_new(const struct engine_ops *ops);
int device_add(struct device *d);
int device_start(struct device *d);
void device_free(struct device *d);

/* Give @d to the least loaded worker / take it back (RCU, control thread). */
int device_publish(struct device *d);
void device_unpublish(struct device *d);

/* device_release() - let the engine go, then free @d. Control thread. */
void device_release(struct device *d);

/* Does any device need regions registered for DMA (no SVA)? */
bool device_any_needs_dma_map(void);
int device_dma_map_all(void *va, uint64_t iova, size_t len);
void device_dma_unmap_all(void *va, uint64_t iova, size_t len);

const char *device_state_name(uint32_t state);

/* The watchdog bound for @d: --watchdog-ms, else its engine's default. */
uint32_t device_watchdog_ms(const struct device *d);

/*
 * calib.c: smallest copy worth sending to @d rather than memcpy, in bytes:
 * at most DEVICE_COPYBREAK_MAX, what an engine that never beats memcpy gets.
 */
#define DEVICE_COPYBREAK_MAX 65536u
uint32_t device_calibrate(struct device *d);

/*
 * device_calibration_carry() - the dmad before a restart measured
 * @copybreak for the device named @name: the next device_calibrate() of a
 * device by that name takes it instead of measuring (once: a device added
 * later under that name is measured). At most MAX_DEVICES are kept.
 */
void device_calibration_carry(const char *name, uint32_t copybreak);

#endif /* DMAD_DEVICE_H */
