/* SPDX-License-Identifier: MIT */
/*
 * The fake engine (engine_fake.h). Single producer (the worker enqueues),
 * single completer (the test, or the worker itself in automatic mode),
 * single reaper (the worker): three free-running counters over one array.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_dmadev.h>

#include "device.h"
#include "engine.h"
#include "engine_fake.h"

#define NB_DESC 64

struct fake {
	struct xfer q[NB_DESC];
	bool ok[NB_DESC];
	uint64_t enqueued;  /* worker */
	uint64_t completed; /* completer: the test, or the worker when !hold */
	uint64_t reaped;    /* worker */
	bool hold;
	bool stopped;
};

static struct fake *fake_of(struct device *d)
{
	return d->priv;
}

static unsigned complete(struct fake *f, unsigned n, bool ok)
{
	uint64_t done = f->completed, end = __atomic_load_n(&f->enqueued, __ATOMIC_ACQUIRE);
	unsigned k = 0;

	if (__atomic_load_n(&f->stopped, __ATOMIC_ACQUIRE))
		return 0;
	for (; k < n && done + k < end; k++) {
		uint32_t i = (uint32_t)((done + k) % NB_DESC);

		if (ok)
			engine_cpu_exec(&f->q[i]);
		f->ok[i] = ok;
	}
	/* The copies and statuses are visible before the count that covers them. */
	__atomic_store_n(&f->completed, done + k, __ATOMIC_RELEASE);
	return k;
}

static int enqueue(struct device *d, const struct xfer *x)
{
	struct fake *f = fake_of(d);

	if (f->enqueued - __atomic_load_n(&f->reaped, __ATOMIC_RELAXED) == NB_DESC)
		return -ENOSPC;
	f->q[f->enqueued % NB_DESC] = *x;
	__atomic_store_n(&f->enqueued, f->enqueued + 1, __ATOMIC_RELEASE);
	if (!__atomic_load_n(&f->hold, __ATOMIC_ACQUIRE))
		complete(f, 1, true);
	return 1;
}

static void doorbell(struct device *d)
{
	(void)d;
}

static unsigned reap(struct device *d, unsigned max, bool *ret_ok)
{
	struct fake *f = fake_of(d);
	uint64_t end = __atomic_load_n(&f->completed, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	for (; n < max && f->reaped + n < end; n++)
		ret_ok[n] = f->ok[(f->reaped + n) % NB_DESC];
	__atomic_store_n(&f->reaped, f->reaped + n, __ATOMIC_RELEASE);
	return n;
}

static int stop(struct device *d)
{
	__atomic_store_n(&fake_of(d)->stopped, true, __ATOMIC_RELEASE);
	return 0;
}

/* As a real engine's start: what was never completed is forgotten. */
static int start(struct device *d)
{
	struct fake *f = fake_of(d);

	f->enqueued = f->completed = f->reaped;
	__atomic_store_n(&f->stopped, false, __ATOMIC_RELEASE);
	return 0;
}

static int completed_count(struct device *d, uint64_t *ret_count)
{
	*ret_count = __atomic_load_n(&fake_of(d)->completed, __ATOMIC_ACQUIRE);
	return 0;
}

static void release(struct device *d)
{
	free(d->priv);
}

static const struct engine_ops fake_ops = {
	.enqueue = enqueue,
	.doorbell = doorbell,
	.reap = reap,
	.stop = stop,
	.start = start,
	.completed_count = completed_count,
	.release = release,
};

int engine_fake_add(const char *name, struct device **ret_dev)
{
	struct device *d = device_new(&fake_ops);
	int ret;

	if (!d || !(d->priv = calloc(1, sizeof(struct fake)))) {
		device_free(d);
		return -ENOMEM;
	}
	d->dev_id = -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->driver, sizeof(d->driver), "fake");
	d->capa = RTE_DMA_CAPA_MEM_TO_MEM | RTE_DMA_CAPA_SVA | RTE_DMA_CAPA_OPS_COPY;
	d->nb_desc = NB_DESC;
	d->watchdog_default_ms = 100;
	ret = device_add(d);
	if (ret < 0) {
		free(d->priv);
		device_free(d);
		return ret;
	}
	*ret_dev = d;
	return 0;
}

void engine_fake_hold(struct device *d, bool hold)
{
	__atomic_store_n(&fake_of(d)->hold, hold, __ATOMIC_RELEASE);
}

uint64_t engine_fake_enqueued(struct device *d)
{
	return __atomic_load_n(&fake_of(d)->enqueued, __ATOMIC_ACQUIRE);
}

uint64_t engine_fake_completed(struct device *d)
{
	return __atomic_load_n(&fake_of(d)->completed, __ATOMIC_ACQUIRE);
}

unsigned engine_fake_complete(struct device *d, unsigned n, bool ok)
{
	return complete(fake_of(d), n, ok);
}
