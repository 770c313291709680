/* SPDX-License-Identifier: MIT */
/*
 * Raw ring abuse, beyond test-ring-hostile's catalogue: thousands of random
 * descriptors (random cookies included); a producer index moved backwards,
 * or one past a full ring, which gets the offender disconnected promptly
 * (a full ring, exactly, is served); and regions changed under the daemon
 * while copies run: shrinking is impossible (F_SEAL_SHRINK holds),
 * growing and punching holes are harmless. A region of another client is
 * never written, and that other client copies on undisturbed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "procstat.h"
#include "rawproto.h"

#define LEN	     (1u << 20)
#define RANDOM_DESCS 20000u
#define CLOSE_MS     2000
#define CANARY_SEED  77

static const char *sock;
static uint8_t *mem_a, *mem_b, *canary;
static int fd_a, fd_b;

struct conn {
	int fd;
	struct raw_chan ch;
};

static void attach(struct conn *k, const char *name)
{
	uint32_t id_a, id_b;
	int r;

	k->fd = raw_connect(sock);
	if (k->fd < 0)
		tap_bail("connect: %s", strerror(-k->fd));
	r = raw_hello(k->fd, name);
	if (r == 0)
		r = raw_region_reg(k->fd, fd_a, LEN, &id_a);
	if (r == 0)
		r = raw_region_reg(k->fd, fd_b, LEN, &id_b);
	if (r == 0)
		r = raw_chan_get(k->fd, DMAD_PROTO_CAP_COPY | DMAD_PROTO_CAP_FILL, &k->ch);
	if (r != 0 || id_a != 0 || id_b != 1)
		tap_bail("%s: regions 0 and 1 and a channel: %d (ids %u, %u)", name, r, id_a, id_b);
}

static void detach(struct conn *k)
{
	raw_chan_unmap(&k->ch);
	close(k->fd);
}

/* Mostly near-valid, so that validation is tried field by field. */
static struct dmad_proto_desc random_desc(uint32_t *rng)
{
	struct dmad_proto_desc d;
	uint32_t w[sizeof(d) / sizeof(uint32_t)];

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		w[i] = rnd(rng);
	memcpy(&d, w, sizeof(d));
	if (rnd(rng) % 4) {
		d.op = (uint8_t)(1 + rnd(rng) % 3);
		d.flags &= (uint8_t)(rnd(rng) % 2 ? 3 : 0xff);
		d.src_region = (uint16_t)(rnd(rng) % 3);
		d.dst_region = (uint16_t)(rnd(rng) % 3);
		d.rsvd = rnd(rng) % 8 ? 0 : d.rsvd;
		d.len = (uint32_t)rnd_len(rng, rnd(rng) % 2 ? LEN : UINT32_MAX);
		d.src_off = rnd(rng) % 2 ? rnd(rng) % (LEN + 8) : d.src_off;
		d.dst_off = rnd(rng) % 2 ? rnd(rng) % (LEN + 8) : d.dst_off;
	}
	return d;
}

/* Wait until the daemon has consumed everything up to our tail. */
static bool consumed(struct raw_chan *ch, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;

	while (__atomic_load_n(&ch->ring->sq_head, __ATOMIC_ACQUIRE) != ch->tail) {
		if (harness_now_ms() > end)
			return false;
		usleep(200);
	}
	return true;
}

static void check_random(void)
{
	struct conn k;
	uint32_t rng = 12345, last, n = 0;
	bool all = true;

	attach(&k, "random");
	while (n < RANDOM_DESCS && all) {
		/* Whole rings at a time, random cookies and all. */
		for (uint32_t i = 0; i < DMAD_PROTO_SQ_ENTRIES; i++, n++) {
			k.ch.sq[k.ch.tail & (DMAD_PROTO_SQ_ENTRIES - 1)] = random_desc(&rng);
			k.ch.tail++;
		}
		raw_chan_issue(&k.ch);
		all = consumed(&k.ch, COPIER_WAIT_MS);
	}
	ok(all, "%u random descriptors consumed", n);
	/* With honest cookies again, completion still works. */
	k.ch.cookie = 100;
	last = raw_chan_push(&k.ch, raw_copy_01(0, 0, 4096));
	raw_chan_issue(&k.ch);
	all = raw_chan_wait(&k.ch, last, COPIER_WAIT_MS);
	ok(all, "a good copy after them completes (completed %u, want %u)", k.ch.ring->completed,
	   last);
	ok(pat_check(canary, LEN, 0, CANARY_SEED, true) == LEN,
	   "another client's region was never written");
	detach(&k);
}

/* Does the daemon hang up on @k within CLOSE_MS? */
static bool hung_up(struct conn *k)
{
	static struct raw_msg m;
	int r = raw_recv(k->fd, &m, CLOSE_MS);

	return r == RAW_CLOSED;
}

static void check_tail(int32_t delta, const char *what)
{
	struct conn k;
	uint32_t last;

	attach(&k, what);
	raw_chan_push(&k.ch, raw_copy_01(0, 0, 4096));
	last = raw_chan_push(&k.ch, raw_copy_01(4096, 4096, 4096));
	raw_chan_issue(&k.ch);
	if (!ok(raw_chan_wait(&k.ch, last, COPIER_WAIT_MS), "%s: two good copies first", what))
		return;
	k.ch.tail = k.ch.tail + (uint32_t)delta;
	raw_chan_issue(&k.ch);
	ok(hung_up(&k), "%s (tail %+d): the offender is disconnected within %d ms", what, delta,
	   CLOSE_MS);
	detach(&k);
}

/* Exactly a full ring is legitimate: all of it is served. */
static void check_full_ring(void)
{
	struct conn k;
	uint32_t last = 0;

	attach(&k, "full-ring");
	for (uint32_t i = 0; i < DMAD_PROTO_SQ_ENTRIES; i++)
		last = raw_chan_push(&k.ch, raw_copy_01((uint64_t)i * 512, (uint64_t)i * 512, 512));
	raw_chan_issue(&k.ch);
	ok(raw_chan_wait(&k.ch, last, COPIER_WAIT_MS),
	   "a ring filled exactly (%u descriptors) is served", DMAD_PROTO_SQ_ENTRIES);
	detach(&k);
}

/* Change the source region's memfd while large copies out of it run. */
static void check_region_changes(void)
{
	struct conn k;
	uint32_t last = 0;
	int shrink, grow, punch;

	attach(&k, "truncate");
	for (uint32_t i = 0; i < 256; i++)
		last = raw_chan_push(&k.ch, raw_copy_01(0, 0, LEN));
	raw_chan_issue(&k.ch);
	shrink = ftruncate(fd_a, LEN / 2) < 0 ? errno : 0;
	ok(shrink == EPERM, "shrinking a registered region fails: %s", strerror(shrink));
	grow = ftruncate(fd_a, 2 * LEN) < 0 ? errno : 0;
	punch = fallocate(fd_a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, LEN) < 0 ? errno : 0;
	ok(grow == 0 && punch == 0, "growing it and punching a hole in it are allowed (%s, %s)",
	   strerror(grow), strerror(punch));
	ok(raw_chan_wait(&k.ch, last, COPIER_WAIT_MS),
	   "the copies running meanwhile complete, the daemon never faulted on the pages");
	detach(&k);
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	void *m;
	int canary_fd, other;
	uint32_t id;

	harness_watchdog(150);
	d = harness_dmad_start(NULL);
	sock = d->socket;
	bystander_start(&b, sock);

	fd_a = raw_memfd(LEN, true, (void **)&mem_a);
	fd_b = raw_memfd(LEN, true, (void **)&mem_b);
	pat_fill(mem_a, LEN, 0, 5, true);
	/* A region of another client: nothing here may ever reach it. */
	canary_fd = raw_memfd(LEN, true, &m);
	canary = m;
	pat_fill(canary, LEN, 0, CANARY_SEED, true);
	other = raw_connect(sock);
	if (other < 0 || raw_hello(other, "canary") != 0 ||
	    raw_region_reg(other, canary_fd, LEN, &id) != 0)
		tap_bail("the canary client could not register its region");

	check_random();
	check_full_ring();
	check_tail(-5, "producer index moved backwards");
	check_tail(DMAD_PROTO_SQ_ENTRIES + 1, "producer index one past a full ring");
	check_tail(INT32_MIN, "producer index half the index space away");
	check_region_changes();

	ok(pat_check(canary, LEN, 0, CANARY_SEED, true) == LEN,
	   "the other client's region is still intact");
	close(other);
	ok(harness_dmad_alive(d), "dmad survived all of it");
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
