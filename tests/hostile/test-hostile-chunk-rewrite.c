/* SPDX-License-Identifier: MIT */
/*
 * A client rewrites the length of the descriptor at the head of its ring,
 * in a tight loop, while dmad's CPU engine copies it in chunks (it does so
 * when another channel shares the engine). Each chunk and the final take
 * read the slot again: a length that shrinks below what the chunks already
 * copied between the last two reads must not leave a negative rest (a
 * copy of almost 4 GiB past the regions, dmad killed by SIGSEGV). Whatever
 * the rewriting, every byte of the destination is either untouched or the
 * source's byte at that offset, nothing past the longest length is
 * written, the daemon lives and another client never notices.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define LEN    (1u << 20)
#define BIG    (20u << 10) /* more than one 16 KiB chunk: chunked when shared */
#define SMALL  (4u << 10)  /* less than a chunk */
#define TRIALS 200000u
/* Where the second channel copies to, past anything the first one may write. */
#define OTHER_OFF (LEN / 2)
#define OTHER_LEN 64u

static struct raw_chan a; /* the channel whose head is rewritten */
static volatile bool stop;

/* Rewrite the length of whatever descriptor is at the head of the ring. */
static void *flipper(void *arg)
{
	(void)arg;
	while (!stop) {
		uint32_t head = __atomic_load_n(&a.ring->sq_head, __ATOMIC_ACQUIRE);
		struct dmad_proto_desc *d = &a.sq[head & (DMAD_PROTO_SQ_ENTRIES - 1)];

		__atomic_store_n(&d->len, BIG, __ATOMIC_RELAXED);
		__atomic_store_n(&d->len, BIG, __ATOMIC_RELAXED);
		__atomic_store_n(&d->len, SMALL, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Each byte of [0, BIG) is the source's or untouched; nothing else moved. */
static bool memory_intact(const uint8_t *src, const uint8_t *dst)
{
	for (size_t i = 0; i < BIG; i++)
		if (dst[i] != pat_byte(i, 7, true) && dst[i] != pat_byte(i, 7, false))
			return false;
	return pat_check(dst + BIG, OTHER_OFF - BIG, BIG, 7, false) == OTHER_OFF - BIG &&
	       pat_check(dst + OTHER_OFF, OTHER_LEN, 0, 7, true) == OTHER_LEN &&
	       pat_check(dst + OTHER_OFF + OTHER_LEN, LEN - OTHER_OFF - OTHER_LEN,
			 OTHER_OFF + OTHER_LEN, 7, false) == LEN - OTHER_OFF - OTHER_LEN &&
	       pat_check(src, LEN, 0, 7, true) == LEN;
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	struct raw_chan o;
	uint8_t *src, *dst;
	uint32_t id_src, id_dst, n, errs0;
	pthread_t th;
	int fd, fd_src, fd_dst, r;
	bool alive = true;

	harness_watchdog(150);
	d = harness_dmad_start("--engines", "cpu", NULL);
	bystander_start(&b, d->socket);

	fd_src = raw_memfd(LEN, true, (void **)&src);
	fd_dst = raw_memfd(LEN, true, (void **)&dst);
	pat_fill(src, LEN, 0, 7, true);
	pat_fill(dst, LEN, 0, 7, false);
	fd = raw_connect(d->socket);
	if (fd < 0)
		tap_bail("connect: %s", strerror(-fd));
	r = raw_hello(fd, "rewriter");
	if (r == 0)
		r = raw_region_reg(fd, fd_src, LEN, &id_src);
	if (r == 0)
		r = raw_region_reg(fd, fd_dst, LEN, &id_dst);
	if (r == 0)
		r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &a);
	/* A second channel on the same engine, busy, so that it is shared. */
	if (r == 0)
		r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &o);
	if (r != 0 || id_src != 0 || id_dst != 1)
		tap_bail("regions 0 and 1 and two channels: %d (ids %u, %u)", r, id_src, id_dst);
	errs0 = a.ring->err_tail;

	if (pthread_create(&th, NULL, flipper, NULL) != 0)
		tap_bail("pthread_create");
	/* The ring kept full: each copy is chunked, and rewritten, in turn. */
	for (n = 0; n < TRIALS && alive;) {
		uint32_t head = __atomic_load_n(&a.ring->sq_head, __ATOMIC_ACQUIRE);

		if (a.tail - head < DMAD_PROTO_SQ_ENTRIES / 2) {
			for (; a.tail - head < DMAD_PROTO_SQ_ENTRIES && n < TRIALS; n++)
				raw_chan_push(&a, raw_copy_01(0, 0, BIG));
			raw_chan_push(&o, raw_copy_01(0, OTHER_OFF, OTHER_LEN));
			raw_chan_issue(&o);
			raw_chan_issue(&a);
		}
		alive = harness_dmad_alive(d);
		usleep(100);
	}
	alive = alive && raw_chan_wait(&a, a.cookie, COPIER_WAIT_MS);
	stop = true;
	pthread_join(th, NULL);

	ok(alive && harness_dmad_alive(d), "dmad took %u rewritten copies and lives", n);
	ok(raw_chan_wait(&o, o.cookie, COPIER_WAIT_MS), "the other channel's copies all completed");
	ok(a.ring->err_tail == errs0, "no copy failed (%u error records)",
	   a.ring->err_tail - errs0);
	ok(memory_intact(src, dst),
	   "every destination byte is the source's or untouched, nothing else was written");
	raw_chan_unmap(&a);
	raw_chan_unmap(&o);
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
