/* SPDX-License-Identifier: MIT */
/*
 * Copybreak calibration (net_dma's tcp_dma_copybreak, measured instead of
 * guessed): the smallest power-of-two size at which a pipelined batch of
 * copies on the engine costs no more per copy than memcpy on this CPU. Below
 * it, handing a copy to the engine only adds latency, so the library copies.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "device.h"
#include "engine.h"
#include "log.h"

#define CALIB_MIN   256u
#define CALIB_MAX   DEVICE_COPYBREAK_MAX
#define CALIB_BATCH 32u
#define CALIB_TRIES 3

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	uint64_t t0 = now_ns();

	for (unsigned i = 0; i < CALIB_BATCH; i++) {
		memcpy(dst + (size_t)i * len, src, len);
		/* Keep the compiler from folding the copies away. */
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
	return (now_ns() - t0) / CALIB_BATCH;
}

/* Per-copy time for a batch kept in flight together; 0 on engine trouble. */
static uint64_t dev_ns(struct device *d, uint8_t *dst, uint8_t *src, uint32_t len)
{
	uint64_t t0 = now_ns(), deadline = t0 + 5000000000u;
	unsigned done = 0, queued = 0;
	bool ok[CALIB_BATCH];

	for (unsigned i = 0; i < CALIB_BATCH; i++) {
		struct xfer x = {.op = DMAD_PROTO_OP_COPY,
				 .len = len,
				 .src = rte_malloc_virt2iova(src),
				 .dst = rte_malloc_virt2iova(dst) + (uint64_t)i * len,
				 .src_va = src,
				 .dst_va = dst + (size_t)i * len};
		int r = d->engine->enqueue(d, &x);

		if (r < 0)
			return 0;
		queued += r == 1;
	}
	d->engine->doorbell(d);
	while (done < queued) {
		unsigned n = d->engine->reap(d, queued - done, ok);

		for (unsigned i = 0; i < n; i++)
			if (!ok[i])
				return 0;
		done += n;
		if (now_ns() > deadline)
			return 0;
	}
	return (now_ns() - t0) / CALIB_BATCH;
}

/* What the dmad before a restart measured, by device name. */
static struct {
	char name[DMAD_PROTO_NAME_MAX];
	uint32_t copybreak; /* 0: none, or taken */
} carried[MAX_DEVICES];

void device_calibration_carry(const char *name, uint32_t copybreak)
{
	for (unsigned i = 0; i < MAX_DEVICES; i++)
		if (!carried[i].copybreak) {
			snprintf(carried[i].name, sizeof(carried[i].name), "%s", name);
			carried[i].copybreak = RTE_MIN(copybreak, CALIB_MAX);
			return;
		}
}

static uint32_t take_carried(const char *name)
{
	for (unsigned i = 0; i < MAX_DEVICES; i++)
		if (carried[i].copybreak && !strcmp(carried[i].name, name)) {
			uint32_t v = carried[i].copybreak;

			carried[i].copybreak = 0;
			return v;
		}
	return 0;
}

uint32_t device_calibrate(struct device *d)
{
	uint32_t copybreak = take_carried(d->name);
	uint8_t *src, *dst;
	bool ok = false;

	/* A restart: clients wait on this start, and the engine and CPU are
	 * the ones measured a moment ago. */
	if (copybreak) {
		log_debug("calibrate %s: %u bytes, as measured before the restart", d->name,
			  copybreak);
		return copybreak;
	}
	copybreak = CALIB_MAX;

	src = rte_malloc("calib", CALIB_MAX, 64);
	dst = rte_malloc("calib", (size_t)CALIB_MAX * CALIB_BATCH, 64);
	if (!src || !dst) {
		log_warning("no memory to calibrate %s; copybreak %u", d->name, copybreak);
		ok = true; /* nothing was sent to the engine */
		goto out;
	}
	memset(src, 0x5a, CALIB_MAX);
	memset(dst, 0, (size_t)CALIB_MAX * CALIB_BATCH);

	for (uint32_t len = CALIB_MIN; len <= CALIB_MAX; len <<= 1) {
		uint64_t c = UINT64_MAX, g = UINT64_MAX;

		for (int t = 0; t < CALIB_TRIES; t++) {
			uint64_t v = dev_ns(d, dst, src, len);

			if (!v) {
				log_warning("%s failed calibration copies", d->name);
				goto out;
			}
			g = RTE_MIN(g, v);
			c = RTE_MIN(c, cpu_ns(dst, src, len));
		}
		log_debug("calibrate %s: %u bytes: engine %lu ns, memcpy %lu ns", d->name, len,
			  (unsigned long)g, (unsigned long)c);
		if (g <= c) {
			copybreak = len;
			break;
		}
	}
	ok = true;
out:
	if (!ok) {
		/* Copies may still be on the engine: reset it (stop joins or quiesces
		 * it, start empties its rings) before the memory goes and before a
		 * worker could mistake their completions for a client's. */
		d->engine->stop(d);
		d->engine->start(d);
	}
	rte_free(src);
	rte_free(dst);
	return copybreak;
}
