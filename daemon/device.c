/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dmadev.h>

#include "device.h"
#include "engine.h"
#include "log.h"
#include "retired.h"

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

struct device *device_new(const struct engine_ops *ops)
{
	struct device *d = calloc(1, sizeof(*d));

	if (d) {
		d->engine = ops;
		d->numa_node = -1;
	}
	return d;
}

void device_free(struct device *d)
{
	if (!d)
		return;
	free(d->chans);
	free(d->fifo);
	free(d);
}

int device_start(struct device *d)
{
	/* Room for every descriptor on the engine plus as many done by the CPU. */
	d->fifo_mask = pow2_at_least(2u * d->nb_desc) - 1;
	d->fifo = calloc(d->fifo_mask + 1, sizeof(*d->fifo));
	if (!d->fifo)
		return -ENOMEM;
	d->state = DMAD_PROTO_DEV_ONLINE;
	return device_publish(d);
}

int device_add(struct device *d)
{
	int ret;

	if (dmad.ndev == MAX_DEVICES)
		return log_error_errno(-ENOSPC, "more than %d DMA devices", MAX_DEVICES);
	d->watchdog_ms = device_watchdog_ms(d);
	d->copybreak = device_calibrate(d);
	ret = device_start(d);
	if (ret < 0)
		return ret;
	dmad.devs[dmad.ndev++] = d;
	/* A device back under its old name is no longer released. */
	retired_forget(d->name);
	log_info("device %s (%s) online on worker %u: %u descriptors, copybreak %u bytes", d->name,
		 d->driver, d->worker, d->nb_desc, d->copybreak);
	return 0;
}

/* Replace @w's published device array with one that has @add and lacks @del. */
static int republish(struct worker *w, struct device *add, struct device *del)
{
	struct dev_array *old = w->devs, *a;
	uint32_t n = old ? old->n : 0, k = 0;

	a = malloc(sizeof(*a) + (n + 1) * sizeof(a->d[0]));
	if (!a)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		if (old->d[i] != del)
			a->d[k++] = old->d[i];
	if (add)
		a->d[k++] = add;
	a->n = k;
	rcu_publish(w->devs, a);
	rcu_synchronize();
	free(old);
	return 0;
}

int device_publish(struct device *d)
{
	struct worker *best = &dmad.workers[0];

	/* Each device's vchan is owned by exactly one worker: the least loaded. */
	for (unsigned i = 1; i < dmad.nworkers; i++) {
		uint32_t n = dmad.workers[i].devs ? dmad.workers[i].devs->n : 0;

		if (n < (best->devs ? best->devs->n : 0))
			best = &dmad.workers[i];
	}
	d->worker = best->idx;
	return republish(best, d, NULL);
}

void device_unpublish(struct device *d)
{
	if (republish(&dmad.workers[d->worker], NULL, d) < 0)
		log_error("cannot unpublish %s: out of memory", d->name);
}

void device_release(struct device *d)
{
	if (!d)
		return;
	d->engine->release(d);
	d->state = DMAD_PROTO_DEV_RELEASED;
	device_free(d);
}

bool device_any_needs_dma_map(void)
{
	for (unsigned i = 0; i < dmad.ndev; i++)
		if (!(dmad.devs[i]->capa & RTE_DMA_CAPA_SVA))
			return true;
	return false;
}

int device_dma_map_all(void *va, uint64_t iova, size_t len)
{
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];
		int ret;

		if (d->capa & RTE_DMA_CAPA_SVA || !d->engine->dma_map)
			continue;
		ret = d->engine->dma_map(d, va, iova, len);
		if (ret < 0) {
			device_dma_unmap_all(va, iova, len);
			return ret;
		}
	}
	return 0;
}

void device_dma_unmap_all(void *va, uint64_t iova, size_t len)
{
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];

		if (!(d->capa & RTE_DMA_CAPA_SVA) && d->engine->dma_unmap)
			d->engine->dma_unmap(d, va, iova, len);
	}
}

uint32_t device_watchdog_ms(const struct device *d)
{
	return dmad.cfg.watchdog_ms ? dmad.cfg.watchdog_ms : d->watchdog_default_ms;
}

const char *device_state_name(uint32_t state)
{
	switch (state) {
	case DMAD_PROTO_DEV_ONLINE:
		return "ONLINE";
	case DMAD_PROTO_DEV_DRAINING:
		return "DRAINING";
	case DMAD_PROTO_DEV_OFFLINE:
		return "OFFLINE";
	case DMAD_PROTO_DEV_RELEASED:
		return "RELEASED";
	}
	return "?";
}
