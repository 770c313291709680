/* SPDX-License-Identifier: MIT */
/*
 * Any DPDK dmadev as an engine: ioat, idxd (DSA), and the dma_skeleton
 * software device that is dmad's default. What sets one driver apart lives
 * in the quirk table below, nowhere else.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_dev.h>
#include <rte_dmadev.h>
#include <rte_errno.h>

#include "device.h"
#include "engine.h"
#include "log.h"

#define DEFAULT_NB_DESC 1024
#define BURST		32    /* completions asked for at once, as worker.c's REAP_MAX */
#define ENGINE_YIELD_HZ 50000 /* an awake engine thread yields every 20 us */
#define KEEP_AWAKE_US	200   /* worker_idle.c's SPIN_MAX_NS */

/*
 * dma_skeleton is a thread that copies with memcpy: it polls (about 15 % of
 * a CPU) even when idle, so it is stopped while its worker sleeps; it
 * competes with the worker for CPUs, so the worker yields while waiting on
 * it; and a busy host can leave it unscheduled for 100 ms (measured: 108 ms
 * at load average 10 on 2 cores), so its watchdog bound is 1 s. After
 * 10,000 empty polls (11-21 us here) its thread, "dma_skel_<id>", naps in
 * rte_delay_us_sleep(10), and on this VM that nap lasts ~120 us: it may nap
 * only once its worker stopped giving it work (rte_delay_us_sleep() below),
 * and it starts with 1 ns of timer slack, so that those naps last ~45 us.
 */
static const struct quirk {
	const char *driver;
	bool parks;
	bool shares_cpu;
	uint32_t watchdog_ms;
	const char *thread;	/* its own polling thread, named THREAD<dev_id>, naps */
	uint32_t timerslack_ns; /* for the threads it starts; 0: as ours */
} quirks[] = {
	{"dma_skeleton", true, true, 1000, "dma_skel_", 1},
};

static const struct quirk hardware = {NULL, false, false, 100, NULL, 0};

/*
 * By dmadev id, in TSC ticks: the engine's own thread polls on, rather than
 * nap, until then. Each doorbell moves it KEEP_AWAKE_US ahead (the most a
 * worker spins after work: more copies are likely to come meanwhile, even
 * while a worker beside a spinning client sleeps between them). An engine
 * that is given nothing naps as it always did. Written by the worker, read
 * by the engine's thread.
 */
static uint64_t awake_until[RTE_DMADEV_DEFAULT_MAX];
static uint64_t keep_awake_tsc; /* KEEP_AWAKE_US; set before any worker runs */

/* The dmadev id of the engine thread we run on (quirk.thread), or -1. */
static int engine_thread_id(void)
{
	char name[16];

	if (pthread_getname_np(pthread_self(), name, sizeof(name)))
		return -1;
	for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
		size_t n = quirks[i].thread ? strlen(quirks[i].thread) : 0;
		char *end;
		long id;

		if (!n || strncmp(name, quirks[i].thread, n))
			continue;
		id = strtol(name + n, &end, 10);
		if (end != name + n && !*end && id >= 0 && id < RTE_DMADEV_DEFAULT_MAX)
			return (int)id;
	}
	return -1;
}

/*
 * dmad's own rte_delay_us_sleep(), exported from the executable
 * (daemon/meson.build) so that the dynamic linker binds DPDK's calls to it
 * rather than to EAL's: ELF symbol interposition. On an engine's own thread
 * within awake_until, it polls on, yielding now and then, so the engine
 * keeps looking for the copy that is coming; anywhere else it sleeps, as
 * EAL's does. What else was tried, and measured, is in DECISIONS.md.
 */
void rte_delay_us_sleep(unsigned int us)
{
	static __thread int id = -2; /* -2: not looked up yet */
	static __thread uint64_t yielded;
	struct timespec ts[2] = {{.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000}};
	int k = 0;

	if (id == -2)
		id = engine_thread_id();
	if (id >= 0 && rte_rdtsc() < __atomic_load_n(&awake_until[id], __ATOMIC_RELAXED)) {
		/* Poll on, as the engine does before it naps, but let another
		 * task on this CPU run now and then (a yield with nobody to run
		 * costs ~1 us here, which would delay a copy that came meanwhile). */
		if (rte_rdtsc() - yielded > rte_get_tsc_hz() / ENGINE_YIELD_HZ) {
			sched_yield();
			yielded = rte_rdtsc();
		} else {
			rte_pause();
		}
		return;
	}
	/* The whole time, across signals. */
	while (nanosleep(&ts[k], &ts[1 - k]) && errno == EINTR)
		k = 1 - k;
}

static const struct quirk *quirk_of(const char *driver)
{
	for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++)
		if (!strcmp(quirks[i].driver, driver))
			return &quirks[i];
	return &hardware;
}

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

static int enqueue(struct device *d, const struct xfer *x)
{
	uint64_t flags = 0;
	int ret;

	if (x->flags & DMAD_PROTO_DF_FENCE)
		flags |= RTE_DMA_OP_FLAG_FENCE;
	if (x->flags & DMAD_PROTO_DF_LLC)
		flags |= RTE_DMA_OP_FLAG_LLC;
	if (x->op == DMAD_PROTO_OP_COPY)
		ret = rte_dma_copy(d->dev_id, d->vchan, x->src, x->dst, x->len, flags);
	else
		ret = rte_dma_fill(d->dev_id, d->vchan, x->pattern, x->dst, x->len, flags);
	return ret < 0 ? ret : 1;
}

static void doorbell(struct device *d)
{
	const struct quirk *q = d->priv;

	rte_dma_submit(d->dev_id, d->vchan);
	if (q->thread)
		__atomic_store_n(&awake_until[d->dev_id], rte_rdtsc() + keep_awake_tsc,
				 __ATOMIC_RELAXED);
}

/*
 * rte_dma_completed() first: it says how many succeeded in a row, without a
 * status per op to write and read back. Only past a failure does the status
 * of each op matter, and rte_dma_completed_status() says it.
 */
static unsigned reap(struct device *d, unsigned max, bool *ret_ok)
{
	enum rte_dma_status_code st[BURST];
	uint16_t last, n, m, want = (uint16_t)RTE_MIN(max, (unsigned)BURST);
	bool error = false;

	n = rte_dma_completed(d->dev_id, d->vchan, want, &last, &error);
	memset(ret_ok, 1, n);
	if (likely(!error) || n == want)
		return n;
	m = rte_dma_completed_status(d->dev_id, d->vchan, want - n, &last, st);
	for (uint16_t i = 0; i < m; i++)
		ret_ok[n + i] = st[i] == RTE_DMA_STATUS_SUCCESSFUL;
	return n + m;
}

static int stop(struct device *d)
{
	return rte_dma_stop(d->dev_id);
}

/* A thread the engine starts inherits the timer slack of ours. */
static int start(struct device *d)
{
	const struct quirk *q = d->priv;
	int slack = q->timerslack_ns ? prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) : -1, ret;

	if (slack >= 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)q->timerslack_ns, 0, 0, 0);
	ret = rte_dma_start(d->dev_id);
	if (slack >= 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	return ret;
}

static int completed_count(struct device *d, uint64_t *ret_count)
{
	struct rte_dma_stats st;
	int ret = rte_dma_stats_get(d->dev_id, d->vchan, &st);

	if (ret < 0)
		return ret;
	*ret_count = st.completed;
	return 0;
}

static int dma_map(struct device *d, void *va, uint64_t iova, size_t len)
{
	struct rte_device *rdev = find_rte_device(d->name);

	if (!rdev || rte_dev_dma_map(rdev, va, iova, len) < 0)
		return log_error_errno(-rte_errno, "cannot map region for DMA on %s: %m", d->name);
	return 0;
}

static void dma_unmap(struct device *d, void *va, uint64_t iova, size_t len)
{
	struct rte_device *rdev = find_rte_device(d->name);

	if (rdev)
		rte_dev_dma_unmap(rdev, va, iova, len);
}

static void release(struct device *d)
{
	struct rte_device *rdev = find_rte_device(d->name);

	if (!d->stopped)
		rte_dma_stop(d->dev_id);
	/*
	 * The bus's unplug closes and releases the dmadev itself (a vdev's
	 * too); closing it first makes that fail (22.11) and leaves the device
	 * registered, so its name could never be added again.
	 */
	if (!rdev || rte_dev_remove(rdev) < 0)
		rte_dma_close(d->dev_id);
}

static const struct engine_ops dmadev_ops = {
	.enqueue = enqueue,
	.doorbell = doorbell,
	.reap = reap,
	.stop = stop,
	.start = start,
	.completed_count = completed_count,
	.dma_map = dma_map,
	.dma_unmap = dma_unmap,
	.release = release,
};

static int configure(struct device *d)
{
	struct rte_dma_conf conf = {.nb_vchans = 1};
	struct rte_dma_vchan_conf qconf = {.direction = RTE_DMA_DIR_MEM_TO_MEM};
	struct rte_dma_info info;
	struct rte_device *rdev;
	const struct quirk *q;
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
	d->numa_node = info.numa_node;
	/* Only ever read through d->priv. */
	q = d->priv = (void *)quirk_of(d->driver);
	d->parks = q->parks;
	d->shares_cpu = q->shares_cpu;
	d->watchdog_default_ms = q->watchdog_ms;

	ret = rte_dma_configure(d->dev_id, &conf);
	if (ret < 0)
		return ret;
	d->nb_desc = RTE_MIN(RTE_MAX(DEFAULT_NB_DESC, info.min_desc), info.max_desc);
	qconf.nb_desc = d->nb_desc;
	ret = rte_dma_vchan_setup(d->dev_id, d->vchan, &qconf);
	if (ret < 0)
		return ret;
	if (q->thread) {
		if (d->dev_id < 0 || d->dev_id >= RTE_DMADEV_DEFAULT_MAX)
			return -ENOTSUP;
		/* A new device on an id an old one had: nothing is coming yet. */
		__atomic_store_n(&awake_until[d->dev_id], 0, __ATOMIC_RELAXED);
		keep_awake_tsc = rte_get_tsc_hz() / 1000000 * KEEP_AWAKE_US;
	}
	return start(d);
}

static int setup(int16_t id, struct device **ret_dev)
{
	struct device *d = device_new(&dmadev_ops);
	int ret;

	if (!d)
		return -ENOMEM;
	d->dev_id = id;
	ret = configure(d);
	if (ret < 0) {
		log_notice("skipping DMA device %d (%s): %s", id, d->name, strerror(-ret));
		rte_dma_close(id);
		device_free(d);
		return ret;
	}
	ret = device_add(d);
	if (ret < 0) {
		rte_dma_stop(id);
		rte_dma_close(id);
		device_free(d);
		return ret;
	}
	*ret_dev = d;
	return 0;
}

static bool known(int16_t id)
{
	for (unsigned i = 0; i < dmad.ndev; i++)
		if (dmad.devs[i]->engine == &dmadev_ops && dmad.devs[i]->dev_id == id)
			return true;
	return false;
}

int engine_dmadev_setup_all(void)
{
	struct device *d;
	int16_t id;
	int n = 0;

	RTE_DMA_FOREACH_DEV(id)
	n += setup(id, &d) == 0;
	return n;
}

/* The device name in "name,key=value,...". */
static int devargs_name(const char *devargs, char *name, size_t size)
{
	const char *comma = strchr(devargs, ',');
	size_t n = comma ? (size_t)(comma - devargs) : strlen(devargs);

	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(name, devargs, n);
	name[n] = '\0';
	return 0;
}

int engine_dmadev_add(const char *devargs, struct device **ret_dev)
{
	char name[DMAD_PROTO_NAME_MAX];
	struct rte_device *rdev;
	struct device *d = NULL;
	int16_t id;
	int ret;

	ret = devargs_name(devargs, name, sizeof(name));
	if (ret < 0)
		return ret;
	if (find_rte_device(name) || rte_dma_get_dev_id_by_name(name) >= 0)
		return -EEXIST;
	/* Any bus: a vdev ("dma_skeleton2,lcore=3") or a PCI address. */
	if (rte_dev_probe(devargs) < 0)
		return rte_errno == EEXIST ? -EEXIST : -ENODEV;
	RTE_DMA_FOREACH_DEV(id)
	{
		if (known(id))
			continue;
		ret = setup(id, &d);
		if (ret < 0)
			break;
	}
	if (!d) {
		rdev = find_rte_device(name);
		if (rdev)
			rte_dev_remove(rdev);
		return -ENODEV;
	}
	*ret_dev = d;
	return 0;
}
