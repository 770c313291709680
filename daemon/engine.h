/* SPDX-License-Identifier: MIT */
/*
 * The one interface every copy engine fills in: any DPDK dmadev
 * (engine_dmadev.c), dmad's own CPU engine (engine_cpu.c), and a fake the
 * tests drive step by step (engine_fake.c). Workers, hotplug and the
 * watchdog see a struct device and these operations, never which kind of
 * engine is behind them (SPDK accel's module interface, in small).
 *
 * Fast-path operations (enqueue, doorbell, reap) are called by the device's
 * owning worker only, and so are stop and start once the device is
 * published. completed_count is read by the control thread while the worker
 * runs. dma_map, dma_unmap and release are the control thread's.
 *
 * Capabilities are DPDK's RTE_DMA_CAPA_* bits in struct device.capa, the
 * vocabulary dmactl shows; what an engine kind needs beyond them (a polling
 * thread to park when idle, a watchdog bound) it sets in struct device, and
 * what only the engine needs to know about itself it keeps behind d->priv.
 */
#ifndef DMAD_ENGINE_H
#define DMAD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

struct device;

struct engine_ops {
	/*
	 * Start @x (fills the engine cannot do, the worker does by CPU).
	 * Returns 1 when the engine has it (it completes through reap), 0 when
	 * it is already done, -ENOSPC when the engine is full (retry later),
	 * or another negative errno to fail the descriptor.
	 */
	int (*enqueue)(struct device *d, const struct xfer *x);
	/* Hand what enqueue queued to the hardware (one MMIO write). */
	void (*doorbell)(struct device *d);
	/*
	 * Up to @max completions, in enqueue order: @ret_ok[i] is whether the
	 * i-th succeeded. Returns how many. Also after stop: what completed
	 * before the engine stopped.
	 */
	unsigned (*reap)(struct device *d, unsigned max, bool *ret_ok);
	/* Stop: nothing that has not completed will. start empties and restarts. */
	int (*stop)(struct device *d);
	int (*start)(struct device *d);
	/* Optional: the engine's own count of completions (0 or -errno). */
	int (*completed_count)(struct device *d, uint64_t *ret_count);
	/* Optional: make [va, va+len) reachable at @iova (engines without SVA). */
	int (*dma_map)(struct device *d, void *va, uint64_t iova, size_t len);
	void (*dma_unmap)(struct device *d, void *va, uint64_t iova, size_t len);
	/* Stop (unless stopped), close, and let go of the engine's resources. */
	void (*release)(struct device *d);
};

/*
 * engine_dmadev_add() - probe @devargs ("dma_skeleton2", "0000:6a:01.0")
 * and set up the dmadev it brings; engine_dmadev_setup_all() sets up every
 * dmadev EAL probed at start. Control thread. Return 0 / the number set up,
 * or a negative errno (-EEXIST, -ENODEV, DPDK's error).
 */
int engine_dmadev_add(const char *devargs, struct device **ret_dev);
int engine_dmadev_setup_all(void);

/* engine_cpu.c: dmad's CPU engine, where channels go when no device is left. */
int engine_cpu_create(struct device **ret_dev);
/* What a fill does (byte i is byte i % 8 of @pattern), and any transfer, by CPU. */
void engine_cpu_fill(uint8_t *dst, uint64_t pattern, uint32_t len);
void engine_cpu_exec(const struct xfer *x);

#endif /* DMAD_ENGINE_H */
