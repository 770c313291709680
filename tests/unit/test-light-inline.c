/* SPDX-License-Identifier: MIT */
/*
 * A small copy on a software engine busy with another channel's work is
 * done by the worker itself (worker.c, light_inline()), step by step on a
 * fake engine (daemon/engine_fake.h) that holds what it is given until told:
 * no outcome here depends on how fast anything runs. Checked: a lone small
 * copy completes while the engine still holds the other channel's copies,
 * every byte, one after another in order; a burst of small copies goes to
 * the engine, and one queued behind its own channel's copy there waits for
 * it; an idle engine still gets the small copy; a large copy is never done
 * inline; the counters add up.
 */
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "client.h"
#include "device.h"
#include "engine.h"
#include "engine_fake.h"
#include "hotplug.h"
#include "tap.h"
#include "unitdaemon.h"
#include "worker.h"

#define LEN	(1u << 20)
#define SMALL	(4u << 10)
#define LARGE	(64u << 10) /* more than worker.c's LIGHT_MAX */
#define WAIT_MS 10000

static struct client *cl;
static uint8_t *src, *dst;
static uint16_t src_id, dst_id;

struct side {
	struct chan *ch;
	uint32_t cookie; /* last one written */
};

/* A client with two channels on @d, as on_hello/on_region_reg/on_chan_get leave one. */
static void client_setup(struct device *d, struct side *greedy, struct side *light)
{
	cl = unitd_new();
	src = unitd_region(cl, LEN, &src_id);
	dst = unitd_region(cl, LEN, &dst_id);
	greedy->ch = unitd_chan(cl, d);
	light->ch = unitd_chan(cl, d);
	unitd_pattern(src, LEN);
}

/* Queue and issue @n copies of @len bytes on @s, the k-th from src + @from +
 * k * @len to dst + @to + k * @len, published at once (one tail store). */
static void submit_n(struct side *s, uint32_t n, uint32_t to, uint32_t from, uint32_t len)
{
	struct dmad_proto_ring *ring = s->ch->ring;
	uint32_t tail = ring->sq_tail;
	uint64_t one = 1;
	ssize_t r;

	for (uint32_t k = 0; k < n; k++) {
		s->cookie = dmad_proto_cookie_next(s->cookie);
		dmad_proto_ring_sq(ring)[(tail + k) & (DMAD_PROTO_SQ_ENTRIES - 1)] =
			(struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
						 .cookie = s->cookie,
						 .len = len,
						 .src_region = src_id,
						 .dst_region = dst_id,
						 .src_off = from + k * len,
						 .dst_off = to + k * len};
	}
	__atomic_store_n(&ring->sq_tail, tail + n, __ATOMIC_RELEASE);
	r = write(s->ch->doorbell_fd, &one, sizeof(one));
	(void)r;
}

static void submit(struct side *s, uint32_t to, uint32_t from, uint32_t len)
{
	submit_n(s, 1, to, from, len);
}

static bool wait_until(bool (*cond)(const void *), const void *arg)
{
	int64_t end = unitd_now_ms() + WAIT_MS;

	while (!cond(arg)) {
		if (unitd_now_ms() > end)
			return false;
		hotplug_tick();
		usleep(200);
	}
	return true;
}

/* Everything @s issued has completed. */
static bool done(const void *arg)
{
	const struct side *s = arg;

	return __atomic_load_n(&s->ch->ring->completed, __ATOMIC_ACQUIRE) == s->cookie;
}

/* The worker has taken everything @s issued off its ring. */
static bool taken(const void *arg)
{
	const struct side *s = arg;

	return __atomic_load_n(&s->ch->ring->sq_head, __ATOMIC_ACQUIRE) == s->ch->ring->sq_tail;
}

static struct device *dev;
static uint64_t held_n;

static bool holds(const void *arg)
{
	(void)arg;
	return engine_fake_enqueued(dev) - engine_fake_completed(dev) == held_n;
}

static bool wait_held(uint64_t n)
{
	held_n = n;
	return wait_until(holds, NULL);
}

static bool same(uint32_t to, uint32_t from, uint32_t len)
{
	return !memcmp(dst + to, src + from, len);
}

/* Beside a channel whose copies the engine holds: done at once, in order. */
static void test_beside_busy(struct side *g, struct side *l)
{
	uint64_t enq, comp;

	for (uint32_t k = 0; k < 4; k++)
		submit(g, k * LARGE, k * LARGE, LARGE);
	ok(wait_held(4), "busy: the engine holds the greedy channel's 4 copies");
	enq = engine_fake_enqueued(dev);
	comp = engine_fake_completed(dev); /* counts add()'s calibration too */
	submit(l, 512u << 10, 0, SMALL);
	ok(wait_until(done, l), "busy: the small copy completes while the engine holds the others");
	ok(engine_fake_enqueued(dev) == enq && engine_fake_completed(dev) == comp,
	   "busy: it never reached the engine, which still holds the 4");
	ok(same(512u << 10, 0, SMALL), "busy: every byte of it is right");
	/* One after another into the same place: each one's bytes, in turn. */
	for (uint32_t k = 1; k <= 3; k++) {
		submit(l, 516u << 10, k * SMALL, SMALL);
		if (!ok(wait_until(done, l) && same(516u << 10, k * SMALL, SMALL),
			"busy: small copy %u completes, its bytes in place", k + 1))
			break;
	}
	ok(__atomic_load_n(&g->ch->ring->completed, __ATOMIC_ACQUIRE) != g->cookie,
	   "busy: the greedy channel's copies are still held");
	ok(l->ch->consumed == 4 && l->ch->retired == 4 && l->ch->inflight == 0 &&
		   l->ch->inflight_bytes == 0,
	   "busy: consumed %lu, retired %lu, in flight %u (%lu B)", (unsigned long)l->ch->consumed,
	   (unsigned long)l->ch->retired, l->ch->inflight, (unsigned long)l->ch->inflight_bytes);
	ok(l->ch->ops == 4 && l->ch->bytes == 4 * SMALL, "busy: its counters: %lu ops, %lu B",
	   (unsigned long)l->ch->ops, (unsigned long)l->ch->bytes);
}

/* A burst of small copies (not a depth-1 client's) still goes to the engine. */
static void test_burst(struct side *g, struct side *l)
{
	uint32_t before = __atomic_load_n(&l->ch->ring->completed, __ATOMIC_ACQUIRE);

	submit_n(l, 3, 520u << 10, 4 * SMALL, SMALL);
	ok(wait_held(7), "burst: the engine holds the burst of 3 beside the greedy 4");
	ok(wait_until(taken, l) &&
		   __atomic_load_n(&l->ch->ring->completed, __ATOMIC_ACQUIRE) == before,
	   "burst: taken, and none completed while the engine holds them");
	ok(engine_fake_complete(dev, 7, true) == 7, "burst: the engine completes all 7");
	ok(wait_until(done, l) && wait_until(done, g),
	   "burst: every copy of both channels completes");
	ok(same(520u << 10, 4 * SMALL, 3 * SMALL), "burst: every byte of the 3 is right");
	for (uint32_t k = 0; k < 4; k++)
		if (!ok(same(k * LARGE, k * LARGE, LARGE), "burst: greedy copy %u right", k))
			break;
}

/* Behind its own channel's copy on the engine: it waits for it, in order. */
static void test_behind_own(struct side *g, struct side *l)
{
	uint32_t before = __atomic_load_n(&l->ch->ring->completed, __ATOMIC_ACQUIRE);

	submit(g, 0, 4 * LARGE, LARGE);
	ok(wait_held(1), "own: the engine holds a greedy copy");
	submit(l, 600u << 10, 0, LARGE);
	ok(wait_held(2), "own: the light channel's large copy goes to the engine");
	submit(l, 700u << 10, LARGE, SMALL);
	ok(wait_until(taken, l), "own: the worker took the small one behind it");
	ok(wait_held(3), "own: the small one went to the engine too, behind the large one");
	ok(__atomic_load_n(&l->ch->ring->completed, __ATOMIC_ACQUIRE) == before,
	   "own: neither completed while the engine holds them");
	ok(engine_fake_complete(dev, 3, true) == 3, "own: the engine completes all 3");
	ok(wait_until(done, l) && wait_until(done, g),
	   "own: every copy of both channels completes");
	ok(same(600u << 10, 0, LARGE) && same(700u << 10, LARGE, SMALL) &&
		   same(0, 4 * LARGE, LARGE),
	   "own: every byte of the 3 is right");
}

/* An idle engine, and a large copy beside a busy one: the engine's own. */
static void test_engine_still_copies(struct side *g, struct side *l)
{
	submit(l, 800u << 10, 2 * SMALL, SMALL);
	ok(wait_held(1), "idle: a small copy on an idle engine goes to the engine");
	ok(engine_fake_complete(dev, 1, true) == 1 && wait_until(done, l),
	   "idle: and completes from there");
	submit(g, 0, 5 * LARGE, LARGE);
	ok(wait_held(1), "large: the engine holds the greedy channel's copy");
	submit(l, 900u << 10, 6 * LARGE, LARGE);
	ok(wait_held(2), "large: a large copy beside it goes to the engine");
	ok(engine_fake_complete(dev, 2, true) == 2 && wait_until(done, l) && wait_until(done, g),
	   "large: both complete from there");
	ok(same(800u << 10, 2 * SMALL, SMALL) && same(900u << 10, 6 * LARGE, LARGE) &&
		   same(0, 5 * LARGE, LARGE),
	   "idle, large: every byte is right");
	ok(__atomic_load_n(&l->ch->ring->err_tail, __ATOMIC_ACQUIRE) == 0 &&
		   __atomic_load_n(&g->ch->ring->err_tail, __ATOMIC_ACQUIRE) == 0,
	   "no error reported");
}

int main(int argc, char **argv)
{
	struct side g = {0}, l = {0};

	(void)argc;
	unitd_start(argv[0]);
	if (engine_fake_add("fake-light", &dev) < 0)
		tap_bail("cannot add a fake device");
	/* A software engine, as dma_skeleton: a thread on the host's CPUs. */
	dev->shares_cpu = true;
	dev->watchdog_ms = 600000;
	dmad.copybreak = 0;
	engine_fake_hold(dev, true);
	if (workers_launch() < 0)
		tap_bail("cannot launch the worker");
	client_setup(dev, &g, &l);
	ok(g.ch->dev == dev && l.ch->dev == dev, "both channels are on %s", dev->name);

	test_beside_busy(&g, &l);
	test_burst(&g, &l);
	test_behind_own(&g, &l);
	test_engine_still_copies(&g, &l);

	unitd_stop(cl);
	return tap_done();
}
