/* SPDX-License-Identifier: MIT */
/*
 * The dmad way: the public client library on a channel of a running dmad,
 * copybreak 0 so that every copy goes to the engine, never to the CPU.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "dmaclient.h"

#include "bench.h"

/* As run.c's stall limit: this long without a completion is a stuck engine. */
#define WAIT_MS 5000

struct dmad_chan {
	struct bench_chan c;
	struct dmac_client *client;
	struct dmac_chan *ch;
	dmac_cookie_t *cookies; /* in flight, oldest at head */
	uint64_t head;
	uint64_t tail;
	unsigned mask;
	bool pinned;
};

/* The main thread's mask before the first channel pinned it (threads started
 * for several channels inherit the pinned one). */
static cpu_set_t unpinned;
static unsigned npinned;

static int dmad_submit(struct bench_chan *c, void *dst, const void *src, size_t len)
{
	struct dmad_chan *dc = (struct dmad_chan *)c;
	dmac_cookie_t cookie;

	if (dc->tail - dc->head > dc->mask)
		return -EAGAIN;
	cookie = dmac_memcpy(dc->ch, dst, src, len, 0);
	if (cookie < 0)
		return cookie;
	dc->cookies[dc->tail++ & dc->mask] = cookie;
	return 0;
}

static void dmad_issue(struct bench_chan *c)
{
	dmac_issue_pending(((struct dmad_chan *)c)->ch);
}

/* Each cookie is asked, not just the newest, so a failed copy is seen. */
static int dmad_reap(struct bench_chan *c)
{
	struct dmad_chan *dc = (struct dmad_chan *)c;
	int n = 0;

	while (dc->head != dc->tail) {
		enum dmac_status st = dmac_is_complete(dc->ch, dc->cookies[dc->head & dc->mask]);

		if (st == DMAC_IN_PROGRESS)
			break;
		if (st == DMAC_ERROR)
			return -EIO;
		dc->head++;
		n++;
	}
	return n;
}

/* dmac_wait() spins briefly, then sleeps until the worker wakes it. */
static int dmad_wait(struct bench_chan *c)
{
	struct dmad_chan *dc = (struct dmad_chan *)c;
	int r = dmac_wait(dc->ch, dc->cookies[dc->head & dc->mask], WAIT_MS);

	/* A failed copy is reap()'s to report. */
	return r == -EIO ? 0 : r;
}

static const char *dmad_engine(struct bench_chan *c)
{
	const char *dev = dmac_chan_device(((struct dmad_chan *)c)->ch);

	return dev[0] ? dev : "cpu";
}

static void dmad_close(struct bench_chan *c)
{
	struct dmad_chan *dc = (struct dmad_chan *)c;

	dmac_chan_put(dc->ch);
	if (dc->pinned && --npinned == 0)
		pthread_setaffinity_np(pthread_self(), sizeof(unpinned), &unpinned);
	if (dc->c.src)
		dmac_region_free(dc->client, dc->c.src);
	free(dc->cookies);
	free(dc);
}

static const struct bench_chan_ops dmad_ops = {
	.submit = dmad_submit,
	.issue = dmad_issue,
	.reap = dmad_reap,
	.wait = dmad_wait,
	.engine = dmad_engine,
	.close = dmad_close,
};

/* The same without dmac_wait(): the submitter only ever polls. */
static const struct bench_chan_ops dmad_poll_ops = {
	.submit = dmad_submit,
	.issue = dmad_issue,
	.reap = dmad_reap,
	.engine = dmad_engine,
	.close = dmad_close,
};

int dmad_chan_open(struct dmac_client *client, size_t stride, unsigned slots, bool poll, int cpu,
		   struct bench_chan **ret_chan)
{
	struct dmad_chan *dc = calloc(1, sizeof(*dc));
	size_t half = stride * slots;
	unsigned cap = 1;
	int r;

	if (!dc)
		return -ENOMEM;
	/* The layout puts the client on its CPU (bench.c). */
	if (cpu >= 0 && npinned++ == 0) {
		cpu_set_t one;

		pthread_getaffinity_np(pthread_self(), sizeof(unpinned), &unpinned);
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	}
	dc->pinned = cpu >= 0;
	dc->c.ops = poll ? &dmad_poll_ops : &dmad_ops;
	dc->client = client;
	while (cap < slots)
		cap <<= 1;
	dc->mask = cap - 1;
	dc->cookies = calloc(cap, sizeof(*dc->cookies));
	if (!dc->cookies) {
		r = -ENOMEM;
		goto fail;
	}
	dc->c.src = dmac_region_alloc(client, 2 * half);
	if (!dc->c.src) {
		r = -errno;
		goto fail;
	}
	dc->c.dst = dc->c.src + half;
	dc->c.stride = stride;
	dc->c.slots = slots;
	r = dmac_chan_get(client, DMAC_CAP_COPY, &dc->ch);
	if (r < 0)
		goto fail;
	dmac_chan_set_copybreak(dc->ch, 0);
	*ret_chan = &dc->c;
	return 0;
fail:
	dmad_close(&dc->c);
	return r;
}
