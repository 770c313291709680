/* SPDX-License-Identifier: MIT */
/*
 * A large copy on dmad's CPU engine, shared with other channels, goes a
 * chunk at a time (worker_chunk.c): worker_chunk_head() reads the ring's
 * head, copies chunks, and when at most a chunk is left tells the take
 * (worker_poll_chan()) how much is done. The take reads the slot again,
 * and the client may have rewritten it in between: shorter than what is
 * done, it must be done again whole, as worker_chunk_head() itself does,
 * never "its rest", whose length would wrap and write gigabytes past the
 * destination. Driven step by step on the test's thread (no worker runs),
 * so the rewrite lands exactly between the two reads: every byte of the
 * destination region and of a canary region beside it is checked.
 */
#include <string.h>

#include "chan.h"
#include "client.h"
#include "device.h"
#include "engine.h"
#include "tap.h"
#include "unitdaemon.h"
#include "worker.h"

#define LEN	 (1u << 20)
#define CHUNK	 (16u << 10) /* worker_chunk.c's */
#define BIG	 (CHUNK + 4096)
#define AT	 (64u << 10)
#define SHORT	 100u
#define SHORT_SO 8u

static void push(struct chan *ch, struct dmad_proto_desc d)
{
	struct dmad_proto_ring *ring = ch->ring;

	dmad_proto_ring_sq(ring)[ring->sq_tail & (DMAD_PROTO_SQ_ENTRIES - 1)] = d;
	__atomic_store_n(&ring->sq_tail, ring->sq_tail + 1, __ATOMIC_RELEASE);
}

/* Offset of the first byte of @p that is not zero, or @len. */
static size_t zero_upto(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return i;
	return len;
}

int main(int argc, char **argv)
{
	struct worker_take lim = {.deficit = LEN, .descs = UINT32_MAX, .tokens = UINT64_MAX};
	uint16_t src_id, dst_id, canary_id;
	struct dmad_proto_desc *slot;
	uint8_t *src, *dst, *canary;
	struct client *cl;
	struct chan *ch;
	unsigned n;
	int c;

	(void)argc;
	unitd_start(argv[0]);
	cl = unitd_new();
	src = unitd_region(cl, LEN, &src_id);
	dst = unitd_region(cl, LEN, &dst_id);
	canary = unitd_region(cl, LEN, &canary_id);
	unitd_pattern(src, LEN);
	ch = unitd_chan(cl, dmad.cpu);
	ok(dmad.cpu->copies_inline,
	   "dmad's CPU engine copies inline: its large copies go in chunks");

	slot = &dmad_proto_ring_sq(ch->ring)[ch->ring->sq_tail & (DMAD_PROTO_SQ_ENTRIES - 1)];
	push(ch, (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
					  .cookie = 1,
					  .len = BIG,
					  .src_region = src_id,
					  .dst_region = dst_id,
					  .dst_off = AT});
	ok(worker_chunk_head(dmad.cpu, ch, &lim, true) == 1, "the first chunk is copied");
	c = worker_chunk_head(dmad.cpu, ch, &lim, true);
	ok(c == 0 && lim.done == CHUNK,
	   "with a chunk or less left, the take is told %u bytes are done (%d, %u)", CHUNK, c,
	   lim.done);

	/* The client rewrites the published slot before the take reads it. */
	__atomic_store_n(&slot->src_off, SHORT_SO, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->len, SHORT, __ATOMIC_RELAXED);
	n = worker_poll_chan(dmad.cpu, ch, false, &lim);
	worker_retire_inline(dmad.cpu);

	ok(n == 1, "the take takes the rewritten descriptor (%u)", n);
	ok(__atomic_load_n(&ch->ring->completed, __ATOMIC_ACQUIRE) == 1 && ch->ring->err_tail == 0,
	   "it completes without an error");
	ok(!memcmp(dst + AT, src + SHORT_SO, SHORT), "the rewritten copy is done whole");
	ok(!memcmp(dst + AT + SHORT, src + SHORT, CHUNK - SHORT),
	   "the first chunk's bytes past it are as the chunk wrote them");
	ok(zero_upto(dst, AT) == AT &&
		   zero_upto(dst + AT + CHUNK, LEN - AT - CHUNK) == LEN - AT - CHUNK,
	   "nothing else of the destination is written");
	ok(zero_upto(canary, LEN) == LEN, "another region is not written");

	unitd_stop(cl);
	return tap_done();
}
