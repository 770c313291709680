/* SPDX-License-Identifier: MIT */
/*
 * The client's submit path alone, for hotpath-counts.sh: callgrind counts
 * instructions inside hotpath_submit() only (--toggle-collect), strace counts
 * system calls of the whole run, and waiting for completions spins on
 * dmac_is_complete() so it adds none. For callgrind the script runs two op
 * counts and divides the difference, which leaves set-up, warm-up and lazy
 * binding out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmaclient.h"

#include "bench.h"

/* Copies per round: well inside the ring, so a round never sees -EAGAIN. */
#define ROUND	 256u
#define WARMUP	 (16u * ROUND)
#define STALL_NS (60ull * 1000000000ull) /* generous: callgrind is slow */

/* Not static and not inlined: the name is what callgrind toggles on. */
__attribute__((noinline)) int hotpath_submit(struct dmac_chan *ch, uint8_t *dst, const uint8_t *src,
					     size_t size, unsigned batch, dmac_cookie_t *ret_last);

int hotpath_submit(struct dmac_chan *ch, uint8_t *dst, const uint8_t *src, size_t size,
		   unsigned batch, dmac_cookie_t *ret_last)
{
	dmac_cookie_t c = 0;

	for (unsigned i = 0; i < ROUND; i += batch) {
		for (unsigned j = i; j < i + batch; j++) {
			c = dmac_memcpy(ch, dst + j * size, src + j * size, size, 0);
			if (c < 0)
				return c;
		}
		dmac_issue_pending(ch);
	}
	*ret_last = c;
	return 0;
}

static int wait_spinning(struct dmac_chan *ch, dmac_cookie_t c)
{
	uint64_t t0 = now_ns();
	unsigned spins = 0;
	enum dmac_status st;

	while ((st = dmac_is_complete(ch, c)) == DMAC_IN_PROGRESS)
		if (++spins % 4096 == 0 && now_ns() - t0 > STALL_NS)
			return -ETIMEDOUT;
	return st == DMAC_COMPLETE ? 0 : -EIO;
}

static int rounds(struct dmac_chan *ch, uint8_t *buf, size_t size, uint64_t ops, unsigned batch)
{
	dmac_cookie_t last;
	int r;

	for (uint64_t done = 0; done < ops; done += ROUND) {
		r = hotpath_submit(ch, buf + ROUND * size, buf, size, batch, &last);
		if (r < 0)
			return r;
		r = wait_spinning(ch, last);
		if (r < 0)
			return r;
	}
	return 0;
}

int hotpath_run(struct dmac_client *c, size_t size, uint64_t ops, unsigned batch)
{
	struct dmac_chan *ch = NULL;
	uint8_t *buf;
	int r;

	if (batch == 0 || ROUND % batch) {
		fprintf(stderr, "dmad-bench: --hotpath-batch must divide %u\n", ROUND);
		return -EINVAL;
	}
	buf = dmac_region_alloc(c, 2 * ROUND * size);
	if (!buf)
		return -errno;
	r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (r < 0)
		goto out;
	dmac_chan_set_copybreak(ch, 0);
	for (size_t i = 0; i < ROUND * size; i++)
		buf[i] = (uint8_t)(i * 7 + 1);

	r = rounds(ch, buf, size, WARMUP, batch);
	if (r < 0)
		goto out;
	memset(buf + ROUND * size, 0, ROUND * size);
	r = rounds(ch, buf, size, ops, batch);
	if (r < 0)
		goto out;
	if (memcmp(buf + ROUND * size, buf, ROUND * size)) {
		fprintf(stderr, "dmad-bench: hotpath copies did not land\n");
		r = -EIO;
		goto out;
	}
	ops = (ops + ROUND - 1) / ROUND * ROUND;
	printf("hotpath: ops %llu size %zu batch %u device '%s'\n", (unsigned long long)ops, size,
	       batch, dmac_chan_device(ch));
out:
	dmac_chan_put(ch);
	dmac_region_free(c, buf);
	return r;
}
