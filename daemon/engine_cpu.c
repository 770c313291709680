/* SPDX-License-Identifier: MIT */
/*
 * dmad's CPU engine: an engine like the others, owned by a worker, that
 * does each transfer with the CPU as it is enqueued. Channels go to it when
 * the last device is removed under them, because descriptors may already
 * sit in their rings that only a worker can take, and from the start with
 * --engines cpu: then the copies run in the worker, on its CPU rather than
 * the client's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dmadev.h>

#include "device.h"
#include "engine.h"

#define NB_DESC 1024

void engine_cpu_fill(uint8_t *dst, uint64_t pattern, uint32_t len)
{
	uint32_t i = 0;

	/* Bounded by what is left: i + 8 wraps for a fill of nearly 4 GiB. */
	for (; len - i >= 8; i += 8)
		memcpy(dst + i, &pattern, 8);
	memcpy(dst + i, &pattern, len - i);
}

void engine_cpu_exec(const struct xfer *x)
{
	if (x->op == DMAD_PROTO_OP_COPY)
		memcpy(x->dst_va, x->src_va, x->len);
	else
		engine_cpu_fill(x->dst_va, x->pattern, x->len);
}

static int enqueue(struct device *d, const struct xfer *x)
{
	(void)d;
	engine_cpu_exec(x);
	return 0;
}

static void doorbell(struct device *d)
{
	(void)d;
}

static unsigned reap(struct device *d, unsigned max, bool *ret_ok)
{
	(void)d, (void)max, (void)ret_ok;
	return 0; /* nothing is ever left outstanding */
}

static int nothing(struct device *d)
{
	(void)d;
	return 0;
}

static void release(struct device *d)
{
	(void)d;
}

static const struct engine_ops cpu_ops = {
	.enqueue = enqueue,
	.doorbell = doorbell,
	.reap = reap,
	.stop = nothing,
	.start = nothing,
	.release = release,
};

int engine_cpu_create(struct device **ret_dev)
{
	struct device *d = device_new(&cpu_ops);

	if (!d)
		return -ENOMEM;
	d->dev_id = -1;
	snprintf(d->name, sizeof(d->name), "cpu");
	snprintf(d->driver, sizeof(d->driver), "cpu");
	d->capa = RTE_DMA_CAPA_MEM_TO_MEM | RTE_DMA_CAPA_SVA | RTE_DMA_CAPA_OPS_COPY |
		  RTE_DMA_CAPA_OPS_FILL;
	d->nb_desc = NB_DESC;
	d->copies_inline = true;
	d->watchdog_default_ms = UINT32_MAX; /* it cannot hang: it holds nothing */
	/* A copy made by another thread's memcpy never beats the client's own:
	 * what calibration finds for any software engine, without the noise. */
	d->copybreak = DEVICE_COPYBREAK_MAX;
	if (device_start(d) < 0) {
		device_free(d);
		return -ENOMEM;
	}
	*ret_dev = d;
	return 0;
}
