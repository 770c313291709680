/* SPDX-License-Identifier: MIT */
/* The CPU way: memcpy on the submitting thread, complete at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct cpu_chan {
	struct bench_chan c;
	unsigned done; /* copies made since the last reap */
};

static int cpu_submit(struct bench_chan *c, void *dst, const void *src, size_t len)
{
	struct cpu_chan *cc = (struct cpu_chan *)c;

	memcpy(dst, src, len);
	cc->done++;
	return 0;
}

static void cpu_issue(struct bench_chan *c)
{
	(void)c;
}

static int cpu_reap(struct bench_chan *c)
{
	struct cpu_chan *cc = (struct cpu_chan *)c;
	int n = (int)cc->done;

	cc->done = 0;
	return n;
}

static const char *cpu_engine(struct bench_chan *c)
{
	(void)c;
	return "cpu";
}

static void cpu_close(struct bench_chan *c)
{
	anon_bufs_unmap(c);
	free(c);
}

static const struct bench_chan_ops cpu_ops = {
	.submit = cpu_submit,
	.issue = cpu_issue,
	.reap = cpu_reap,
	.engine = cpu_engine,
	.close = cpu_close,
};

int cpu_chan_open(size_t stride, unsigned slots, struct bench_chan **ret_chan)
{
	struct cpu_chan *cc = calloc(1, sizeof(*cc));
	int r;

	if (!cc)
		return -ENOMEM;
	cc->c.ops = &cpu_ops;
	r = anon_bufs_map(&cc->c, stride, slots);
	if (r < 0) {
		free(cc);
		return r;
	}
	*ret_chan = &cc->c;
	return 0;
}
