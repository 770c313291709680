/* SPDX-License-Identifier: MIT */
/*
 * The in-process way: rte_dma_copy on a dma_skeleton engine this process
 * creates itself, the baseline a client of dmad is compared with. The
 * skeleton copies by virtual address, so IOVA is the pointer.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_dmadev.h>
#include <rte_eal.h>

#include "bench.h"

#define INPROC_DEV "dma_skeleton0"

static int16_t dev_id = -1;
static cpu_set_t client_cpus; /* the process's own mask, for the other ways */
static cpu_set_t lcore_cpus;  /* lcore 0, which EAL pinned us to */

static int inproc_submit(struct bench_chan *c, void *dst, const void *src, size_t len)
{
	int r;

	(void)c;
	r = rte_dma_copy(dev_id, 0, (rte_iova_t)(uintptr_t)src, (rte_iova_t)(uintptr_t)dst,
			 (uint32_t)len, 0);
	if (r == -ENOSPC)
		return -EAGAIN;
	return r < 0 ? r : 0;
}

static void inproc_issue(struct bench_chan *c)
{
	(void)c;
	rte_dma_submit(dev_id, 0);
}

static int inproc_reap(struct bench_chan *c)
{
	uint16_t last_idx;
	bool has_error = false;
	uint16_t n;

	(void)c;
	n = rte_dma_completed(dev_id, 0, UINT16_MAX, &last_idx, &has_error);
	return has_error ? -EIO : n;
}

static const char *inproc_engine(struct bench_chan *c)
{
	(void)c;
	return INPROC_DEV;
}

static void inproc_close(struct bench_chan *c)
{
	/* Stopping joins the skeleton's copy thread, which would otherwise poll
	 * through the other ways' runs. */
	rte_dma_stop(dev_id);
	pthread_setaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);
	anon_bufs_unmap(c);
	free(c);
}

static const struct bench_chan_ops inproc_ops = {
	.submit = inproc_submit,
	.issue = inproc_issue,
	.reap = inproc_reap,
	.engine = inproc_engine,
	.close = inproc_close,
};

int inproc_init(unsigned nb_desc)
{
	char prefix[32];
	char *argv[] = {
		"dmad-bench",
		"--no-huge",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"--file-prefix",
		prefix,
		"--vdev",
		INPROC_DEV,
		"-l",
		"0",
		"--log-level",
		"lib.eal:error",
		"--log-level",
		"pmd.dma.skeleton:error",
		NULL,
	};
	struct rte_dma_conf conf = {.nb_vchans = 1};
	struct rte_dma_vchan_conf vconf = {
		.direction = RTE_DMA_DIR_MEM_TO_MEM,
		.nb_desc = (uint16_t)nb_desc,
	};
	int r;

	snprintf(prefix, sizeof(prefix), "bench%d", (int)getpid());
	/*
	 * EAL pins the caller to lcore 0 and the skeleton's copy thread to the
	 * other CPUs. The in-process case keeps that split, as a DPDK
	 * application would; the other ways run with the mask we were given.
	 */
	r = pthread_getaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);
	if (r)
		return -r;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -ENODEV;
	pthread_getaffinity_np(pthread_self(), sizeof(lcore_cpus), &lcore_cpus);
	pthread_setaffinity_np(pthread_self(), sizeof(client_cpus), &client_cpus);

	r = rte_dma_get_dev_id_by_name(INPROC_DEV);
	if (r < 0)
		goto fail;
	dev_id = (int16_t)r;
	r = rte_dma_configure(dev_id, &conf);
	if (r < 0)
		goto fail;
	r = rte_dma_vchan_setup(dev_id, 0, &vconf);
	if (r < 0)
		goto fail;
	return 0;
fail:
	inproc_fini();
	return r < 0 ? r : -ENODEV;
}

int inproc_chan_open(size_t stride, unsigned slots, struct bench_chan **ret_chan)
{
	struct bench_chan *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->ops = &inproc_ops;
	r = anon_bufs_map(c, stride, slots);
	if (r < 0)
		goto fail;
	r = rte_dma_start(dev_id);
	if (r < 0) {
		anon_bufs_unmap(c);
		goto fail;
	}
	pthread_setaffinity_np(pthread_self(), sizeof(lcore_cpus), &lcore_cpus);
	*ret_chan = c;
	return 0;
fail:
	free(c);
	return r;
}

void inproc_fini(void)
{
	if (dev_id >= 0)
		rte_dma_close(dev_id);
	dev_id = -1;
	rte_eal_cleanup();
}
