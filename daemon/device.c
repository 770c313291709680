/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_dmadev.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "device.h"
#include "log.h"

#define DEFAULT_NB_DESC 1024

static struct rte_device *find_rte_device(const char *name)
{
	static const char *const buses[] = {"bus=pci", "bus=vdev"};
	struct rte_dev_iterator it;
	struct rte_device *dev;

	for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++)
		RTE_DEV_FOREACH(dev, buses[i], &it)
	if (!strcmp(rte_dev_name(dev), name))
		return dev;
	return NULL;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int configure(struct device *d)
{
	struct rte_dma_conf conf = {.nb_vchans = 1};
	struct rte_dma_vchan_conf qconf = {.direction = RTE_DMA_DIR_MEM_TO_MEM};
	struct rte_dma_info info;
	struct rte_device *rdev;
	int ret;

	ret = rte_dma_info_get(d->dev_id, &info);
	if (ret < 0)
		return ret;
	snprintf(d->name, sizeof(d->name), "%s", info.dev_name);
	rdev = find_rte_device(info.dev_name);
	snprintf(d->driver, sizeof(d->driver), "%s",
		 rdev && rte_dev_driver(rdev) ? rte_driver_name(rte_dev_driver(rdev)) : "?");
	if (!(info.dev_capa & RTE_DMA_CAPA_MEM_TO_MEM) || !(info.dev_capa & RTE_DMA_CAPA_OPS_COPY))
		return -ENOTSUP;
	d->capa = info.dev_capa;

	ret = rte_dma_configure(d->dev_id, &conf);
	if (ret < 0)
		return ret;
	d->nb_desc = RTE_MIN(RTE_MAX(DEFAULT_NB_DESC, info.min_desc), info.max_desc);
	qconf.nb_desc = d->nb_desc;
	ret = rte_dma_vchan_setup(d->dev_id, d->vchan, &qconf);
	if (ret < 0)
		return ret;

	/* Room for every descriptor on the engine plus as many done by the CPU. */
	d->fifo_mask = pow2_at_least(2u * d->nb_desc) - 1;
	d->fifo = calloc(d->fifo_mask + 1, sizeof(*d->fifo));
	if (!d->fifo)
		return -ENOMEM;
	return rte_dma_start(d->dev_id);
}

int device_setup_one(int16_t id, struct device **ret_dev)
{
	struct device *d;
	int ret;

	if (dmad.ndev == MAX_DEVICES)
		return log_error_errno(-ENOSPC, "more than %d DMA devices", MAX_DEVICES);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev_id = id;
	ret = configure(d);
	if (ret < 0) {
		log_notice("skipping DMA device %d (%s): %s", id, d->name, strerror(-ret));
		rte_dma_close(id);
		free(d->fifo);
		free(d);
		return ret;
	}
	d->vdev = !strcmp(rte_bus_name(rte_dev_bus(find_rte_device(d->name))), "vdev");
	d->software = !strcmp(d->driver, "dma_skeleton");
	d->watchdog_ms = device_watchdog_ms(d);
	d->copybreak = device_calibrate(d);
	d->state = DMAD_PROTO_DEV_ONLINE;
	ret = device_publish(d);
	if (ret < 0) {
		rte_dma_stop(id);
		rte_dma_close(id);
		free(d->fifo);
		free(d);
		return ret;
	}
	dmad.devs[dmad.ndev++] = d;
	log_info("device %s (%s) online on worker %u: %u descriptors, copybreak %u bytes", d->name,
		 d->driver, d->worker, d->nb_desc, d->copybreak);
	*ret_dev = d;
	return 0;
}

int device_setup_all(void)
{
	struct device *d;
	int16_t id;

	RTE_DMA_FOREACH_DEV(id)
	device_setup_one(id, &d);
	return (int)dmad.ndev;
}

int device_cpu_create(void)
{
	struct device *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->dev_id = -1;
	snprintf(d->name, sizeof(d->name), "cpu");
	snprintf(d->driver, sizeof(d->driver), "cpu");
	d->capa = RTE_DMA_CAPA_MEM_TO_MEM | RTE_DMA_CAPA_SVA | RTE_DMA_CAPA_OPS_COPY |
		  RTE_DMA_CAPA_OPS_FILL;
	d->nb_desc = DEFAULT_NB_DESC;
	d->fifo_mask = DEFAULT_NB_DESC - 1;
	d->fifo = calloc(DEFAULT_NB_DESC, sizeof(*d->fifo));
	if (!d->fifo || device_publish(d) < 0) {
		free(d->fifo);
		free(d);
		return -ENOMEM;
	}
	d->state = DMAD_PROTO_DEV_ONLINE;
	dmad.cpu = d;
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
	struct rte_device *rdev;

	if (!d)
		return;
	if (d->dev_id >= 0) {
		rdev = find_rte_device(d->name);
		/* A failed or parked device was stopped by its worker. */
		if (!d->failed && !d->parked)
			rte_dma_stop(d->dev_id);
		/*
		 * The driver's remove closes and releases the dmadev itself; closing
		 * it first makes that fail (22.11) and leaves the device registered,
		 * so its name could never be added again.
		 */
		if (d->vdev)
			rte_vdev_uninit(d->name);
		else if (rdev)
			rte_dev_remove(rdev);
		else
			rte_dma_close(d->dev_id);
	}
	d->state = DMAD_PROTO_DEV_RELEASED;
	free(d->chans);
	free(d->fifo);
	free(d);
}

struct device *device_pick(uint32_t caps)
{
	struct device *best = NULL;

	(void)caps; /* fill is emulated on engines without it: every device qualifies */
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];

		if (d->state != DMAD_PROTO_DEV_ONLINE || d->failed)
			continue;
		if (!best || d->nchans < best->nchans)
			best = d;
	}
	return best;
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
		struct rte_device *rdev;

		if (d->capa & RTE_DMA_CAPA_SVA)
			continue;
		rdev = find_rte_device(d->name);
		if (!rdev || rte_dev_dma_map(rdev, va, iova, len) < 0) {
			int ret = log_error_errno(-rte_errno, "cannot map region for DMA on %s: %m",
						  d->name);
			device_dma_unmap_all(va, iova, len);
			return ret;
		}
	}
	return 0;
}

void device_dma_unmap_all(void *va, uint64_t iova, size_t len)
{
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct rte_device *rdev;

		if (dmad.devs[i]->capa & RTE_DMA_CAPA_SVA)
			continue;
		rdev = find_rte_device(dmad.devs[i]->name);
		if (rdev)
			rte_dev_dma_unmap(rdev, va, iova, len);
	}
}

uint32_t device_watchdog_ms(const struct device *d)
{
	if (dmad.cfg.watchdog_ms)
		return dmad.cfg.watchdog_ms;
	/* A software engine is a thread competing for the CPU: on a busy host a
	 * 100 ms gap in its progress is scheduling, not a dead device. */
	return d->software ? 1000 : 100;
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
