/* SPDX-License-Identifier: MIT */
/* Buffers for the CPU and in-process ways: one mapping, sources then destinations. */
#include <errno.h>
#include <sys/mman.h>

#include "bench.h"

int anon_bufs_map(struct bench_chan *c, size_t stride, unsigned slots)
{
	size_t half = stride * slots;
	uint8_t *p;

	p = mmap(NULL, 2 * half, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	c->src = p;
	c->dst = p + half;
	c->stride = stride;
	c->slots = slots;
	return 0;
}

void anon_bufs_unmap(struct bench_chan *c)
{
	munmap(c->src, 2 * c->stride * c->slots);
}
