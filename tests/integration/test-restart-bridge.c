/* SPDX-License-Identifier: MIT */
/*
 * What a restart's bridge serves (the rings, with the CPU, while the new
 * dmad's EAL starts) comes out exactly as a worker would make it: a raw
 * client queues, once RESTART was answered and without ringing the
 * doorbell (so that the old dmad's sleeping worker leaves it), copies,
 * fills, fenced copies of what the descriptor before wrote, and
 * descriptors no worker accepts (an unknown region, a range past a
 * region's end, a reserved field set). Every byte of both
 * regions must then match a model that applies the valid ones in ring
 * order, the error records must name exactly the refused cookies, in
 * order, with -EINVAL, and the last cookie completes. The new dmad's log
 * says how many descriptors the bridge took; if the bridge was not
 * scheduled before the engines were up, the workers took them all and
 * the check that the bridge served them is skipped, not passed. Finally
 * the channel is back on a dma_skeleton.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"
#include "rawproto.h"

#define LEN   (4u << 20)
#define CHUNK 4096u
#define NDESC 600u /* fits the ring (1024) with room: no wait for space */

static uint8_t model_src[LEN], model_dst[LEN];

static uint8_t byte_at(unsigned i)
{
	return (uint8_t)(i * 131u + 7u);
}

/* Descriptor @i of the queue; *@ret_valid says whether a worker takes it. */
static struct dmad_proto_desc make(unsigned i, bool *ret_valid)
{
	struct dmad_proto_desc d = {.op = DMAD_PROTO_OP_COPY, .len = CHUNK, .dst_region = 1};

	*ret_valid = true;
	d.dst_off = (uint64_t)(i % (LEN / CHUNK)) * CHUNK;
	d.src_off = (uint64_t)((i * 7u) % (LEN / CHUNK)) * CHUNK;
	/* Refused ones: fewer than the ring's error records, so none is overwritten. */
	switch (i % 40) {
	case 3: /* a region no one registered */
		d.src_region = 9;
		*ret_valid = false;
		return d;
	case 17: /* past the destination's end */
		d.dst_off = LEN - CHUNK / 2;
		*ret_valid = false;
		return d;
	case 31: /* a reserved field set */
		d.rsvd = 1;
		*ret_valid = false;
		return d;
	}
	switch (i % 13) {
	case 6:
		d.op = DMAD_PROTO_OP_FILL;
		d.src_off = 0x0102030405060708ull * (uint64_t)(i & 0xff);
		break;
	case 10: /* fenced: copies what the descriptor before it wrote */
		d.src_region = 1;
		d.src_off = (uint64_t)((i - 1) % (LEN / CHUNK)) * CHUNK;
		d.flags = DMAD_PROTO_DF_FENCE;
		break;
	}
	return d;
}

static void apply(const struct dmad_proto_desc *d)
{
	uint8_t *dst = model_dst + d->dst_off;

	if (d->op == DMAD_PROTO_OP_FILL) {
		for (uint32_t k = 0; k < d->len; k++)
			dst[k] = (uint8_t)(d->src_off >> (8 * (k % 8)));
		return;
	}
	memcpy(dst, (d->src_region ? model_dst : model_src) + d->src_off, d->len);
}

/* The bridge's count from dmad's restart line, once it is in the log; -1: none in time. */
static long long bridge_count(const struct harness_dmad *d)
{
	int64_t end = harness_now_ms() + 30000;

	while (harness_now_ms() < end) {
		FILE *f = fopen(d->log, "re");
		char line[512];
		long long n = -1;

		while (f && fgets(line, sizeof(line), f)) {
			const char *at = strstr(line, "by the bridge");

			if (at && (at = strrchr(line, ',')))
				sscanf(at, ", %lld descriptor", &n);
		}
		if (f)
			fclose(f);
		if (n >= 0)
			return n;
		usleep(50000);
	}
	return -1;
}

int main(void)
{
	struct raw_chan ch;
	struct raw_msg rep;
	uint32_t bad[NDESC], nbad = 0, last = 0, id_src, id_dst, err_tail;
	uint8_t *src, *dst;
	struct harness_dmad *d;
	int fd, adm, fd_src, fd_dst, r;
	bool ok = true;

	tap_plan(9);
	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	fd_src = raw_memfd(LEN, true, (void **)&src);
	fd_dst = raw_memfd(LEN, true, (void **)&dst);
	for (unsigned i = 0; i < LEN; i++)
		model_src[i] = src[i] = byte_at(i);
	memset(dst, 0xa5, LEN);
	memset(model_dst, 0xa5, LEN);

	fd = raw_connect(d->socket);
	r = fd < 0 ? fd : raw_hello(fd, "bridged");
	if (r == 0)
		r = raw_region_reg(fd, fd_src, LEN, &id_src);
	if (r == 0)
		r = raw_region_reg(fd, fd_dst, LEN, &id_dst);
	if (r == 0)
		r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY | DMAD_PROTO_CAP_FILL, &ch);
	if (!tap_ok(r == 0 && id_src == 0 && id_dst == 1, "a raw client with regions 0, 1 (%d)", r))
		tap_bail("no session to hand over");

	adm = raw_connect(d->socket);
	r = adm < 0 ? adm : raw_hello(adm, "restarter");
	if (r == 0)
		r = raw_request(adm, DMAD_PROTO_RESTART, NULL, 0, NULL, 0, &rep);
	tap_ok(r == 0, "RESTART answered (%d)", r);

	for (unsigned i = 0; i < NDESC; i++) {
		bool valid;
		struct dmad_proto_desc desc = make(i, &valid);

		last = raw_chan_push(&ch, desc);
		if (valid)
			apply(&desc);
		else
			bad[nbad++] = last;
	}
	/* No doorbell: the old dmad's worker, asleep, is not woken for them
	 * before it stops; the bridge looks at every ring when it starts. */
	__atomic_store_n(&ch.ring->sq_tail, ch.tail, __ATOMIC_RELEASE);
	tap_ok(raw_chan_wait(&ch, last, 60000), "the new dmad completes all %u descriptors", NDESC);

	for (unsigned i = 0; i < LEN && ok; i++)
		ok = src[i] == model_src[i] && dst[i] == model_dst[i];
	tap_ok(ok, "every byte of both regions is what the valid descriptors, in ring order, "
		   "make of them");
	err_tail = __atomic_load_n(&ch.ring->err_tail, __ATOMIC_ACQUIRE);
	ok = err_tail == nbad && nbad <= DMAD_PROTO_ERR_ENTRIES;
	for (uint32_t k = 0; ok && k < nbad; k++)
		ok = ch.err[k].cookie == bad[k] && ch.err[k].status == -EINVAL;
	tap_ok(ok, "error records name the %u refused cookies, in order, -EINVAL (%u records)",
	       nbad, err_tail);

	long long n = bridge_count(d);

	tap_ok(n >= 0, "dmad logged its restart (the bridge took %lld)", n);
	if (n > 0)
		tap_ok(1, "the bridge served the queue while EAL started");
	else
		tap_ok(1, "the bridge served the queue # SKIP not scheduled before the engines "
			  "were up: the workers took it");

	struct jv *st = harness_status_json(d->socket);
	const struct jv *c;
	bool on_skel = false;

	for (size_t i = 0; st && (c = jv_at(jv_get(st, "channels"), i)); i++)
		on_skel |= !strncmp(jv_str(jv_get(c, "device"), ""), "dma_skeleton", 12);
	jv_free(st);
	tap_ok(on_skel, "the channel is back on a dma_skeleton");

	raw_chan_unmap(&ch);
	close(fd);
	close(adm);
	harness_dmad_finish(d);
	return tap_done();
}
