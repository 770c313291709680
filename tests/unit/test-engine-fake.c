/* SPDX-License-Identifier: MIT */
/*
 * Drain, move, hang, engine error and hot-add, step by step on fake engines
 * (daemon/engine_fake.h) that complete only when told: no outcome here
 * depends on how fast anything runs. The daemon's real worker runs on its
 * own lcore; this thread is dmad's control thread (it calls hotplug_*()
 * as the control loop would) and the one client (it writes descriptors
 * into the channel's ring itself).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "client.h"
#include "device.h"
#include "engine.h"
#include "engine_fake.h"
#include "hotplug.h"
#include "place.h"
#include "tap.h"
#include "unitdaemon.h"
#include "worker.h"

#define LEN	(1u << 20)
#define CHUNK	(4u << 10)
#define WAIT_MS 10000

static struct client *cl;
static struct chan *ch;
static uint8_t *src, *dst;
static uint16_t src_id, dst_id;
static uint32_t cookie; /* last one written */

/* A client, as on_hello/on_region_reg/on_chan_get leave one. */
static void client_setup(void)
{
	cl = unitd_new();
	src = unitd_region(cl, LEN, &src_id);
	dst = unitd_region(cl, LEN, &dst_id);
	ch = unitd_chan(cl, place_pick(DMAD_PROTO_CAP_COPY, PLACE_NODE_ANY));
	unitd_pattern(src, LEN);
}

/* Queue and issue a copy of chunk @from of region @sreg to chunk @to of @dreg. */
static void submit_copy(uint16_t sreg, uint32_t from, uint16_t dreg, uint32_t to, uint8_t flags)
{
	uint32_t tail = ch->ring->sq_tail;
	uint64_t one = 1;
	ssize_t r;

	cookie = dmad_proto_cookie_next(cookie);
	dmad_proto_ring_sq(ch->ring)[tail & (DMAD_PROTO_SQ_ENTRIES - 1)] =
		(struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
					 .flags = flags,
					 .cookie = cookie,
					 .len = CHUNK,
					 .src_region = sreg,
					 .dst_region = dreg,
					 .src_off = (uint64_t)from * CHUNK,
					 .dst_off = (uint64_t)to * CHUNK};
	__atomic_store_n(&ch->ring->sq_tail, tail + 1, __ATOMIC_RELEASE);
	r = write(ch->doorbell_fd, &one, sizeof(one));
	(void)r;
}

/* Chunk @from of src to chunk @to of dst. */
static void submit(uint32_t to, uint32_t from, uint8_t flags)
{
	submit_copy(src_id, from, dst_id, to, flags);
}

static bool wait_until(bool (*cond)(void *), void *arg)
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

static bool done(void *arg)
{
	uint32_t c = (uint32_t)(uintptr_t)arg;

	return __atomic_load_n(&ch->ring->completed, __ATOMIC_ACQUIRE) == c;
}

/* What wait_held() waits for: @held_dev holding @held_n transfers. */
static struct device *held_dev;
static uint64_t held_n;

static bool holds(void *arg)
{
	(void)arg;
	return engine_fake_enqueued(held_dev) - engine_fake_completed(held_dev) >= held_n;
}

static bool wait_held(struct device *d, uint64_t n)
{
	held_dev = d;
	held_n = n;
	return wait_until(holds, NULL);
}

static bool released(void *arg)
{
	const char *name = arg;

	for (unsigned i = 0; i < dmad.ndev; i++)
		if (!strcmp(dmad.devs[i]->name, name))
			return false;
	return true;
}

/* Chunk @k of dst holds chunk @from of src. */
static bool chunk_is(uint32_t k, uint32_t from)
{
	return !memcmp(dst + (size_t)k * CHUNK, src + (size_t)from * CHUNK, CHUNK);
}

static uint32_t errors_seen(void)
{
	return __atomic_load_n(&ch->ring->err_tail, __ATOMIC_ACQUIRE);
}

/* A removal waits for what the device holds, then the channel carries on elsewhere. */
static void test_drain_and_move(struct device *a, struct device *b)
{
	char an[DMAD_PROTO_NAME_MAX];
	uint32_t first;

	snprintf(an, sizeof(an), "%s", a->name); /* a is freed once released */
	engine_fake_hold(a, true);
	for (uint32_t k = 0; k < 8; k++)
		submit(k, k, 0);
	first = cookie;
	ok(wait_held(a, 8), "drain: %s holds the 8 copies", an);
	ok(hotplug_remove(an, 60000, NULL, 0) == 0, "drain: removal of %s starts", an);
	hotplug_tick();
	ok(ch->dev == NULL && ch->moving, "drain: the channel is off %s while it drains", an);
	for (uint32_t k = 8; k < 12; k++)
		submit(k, k, 0);
	usleep(20000);
	hotplug_tick();
	ok(!released(an) && ch->ring->completed != first,
	   "drain: nothing completes and %s stays while it holds copies", an);
	ok(engine_fake_complete(a, 8, true) == 8, "drain: %s completes what it holds", an);
	ok(wait_until(released, an), "drain: %s is released once drained", an);
	ok(ch->dev == b, "drain: the channel moved to %s", b->name);
	ok(wait_until(done, (void *)(uintptr_t)cookie),
	   "drain: the 4 copies queued meanwhile complete there");
	for (uint32_t k = 0; k < 12; k++)
		if (!ok(chunk_is(k, k), "drain: chunk %u right", k))
			break;
	ok(errors_seen() == 0, "drain: no error reported (%u)", errors_seen());
}

/*
 * A hang: the device completed a copy A and a fenced B that overwrote A's
 * source, then stopped completing. The watchdog fails it; only what it did
 * not complete is redone, so the destination of A keeps A's bytes.
 */
static void test_hang(struct device *b, struct device *c)
{
	char bn[DMAD_PROTO_NAME_MAX];
	uint32_t last;

	snprintf(bn, sizeof(bn), "%s", b->name); /* b is freed once released */
	engine_fake_hold(b, true);
	b->watchdog_ms = 20;
	memset(dst, 0, LEN);
	submit(20, 30, 0);
	submit(30, 31, DMAD_PROTO_DF_FENCE);
	for (uint32_t k = 21; k < 25; k++)
		submit(k, k, 0);
	last = cookie;
	ok(wait_held(b, 6), "hang: %s holds 6 copies", bn);
	ok(engine_fake_complete(b, 2, true) == 2, "hang: %s completes the first two, then hangs",
	   bn);
	ok(wait_until(released, bn), "hang: the watchdog fails and releases %s", bn);
	ok(ch->dev == c, "hang: the channel moved to %s", c->name);
	ok(wait_until(done, (void *)(uintptr_t)last), "hang: every copy completes");
	ok(chunk_is(20, 30) && chunk_is(30, 31), "hang: what the engine did is right");
	ok(chunk_is(21, 21) && chunk_is(24, 24), "hang: what the CPU redid is right");
	ok(errors_seen() == 0, "hang: no error reported (%u)", errors_seen());
}

/*
 * The fenced write-after-read that a second execution of A would break: A
 * and B completed by the engine but not reaped (the worker stopped reaping
 * under an injected hang) when the device is failed.
 */
static void test_no_redo(struct device *c, struct device *d)
{
	char cn[DMAD_PROTO_NAME_MAX];
	uint32_t last;

	snprintf(cn, sizeof(cn), "%s", c->name); /* c is freed once released */
	engine_fake_hold(c, true);
	c->watchdog_ms = 20;
	/* The worker stops reaping: what the engine completes stays unreaped. */
	ok(hotplug_fault(cn, DMAD_PROTO_FAULT_HANG) == 0, "no-redo: hang injected into %s", cn);
	/* A: src 40 -> dst 40; B, fenced: src 41 -> src 40, over A's source. */
	memset(dst, 0, LEN);
	submit(40, 40, 0);
	submit_copy(src_id, 41, src_id, 40, DMAD_PROTO_DF_FENCE);
	submit(42, 42, 0);
	last = cookie;
	ok(wait_held(c, 3), "no-redo: %s holds A, B and one more", cn);
	{
		uint8_t a_src[CHUNK];

		memcpy(a_src, src + 40ull * CHUNK, CHUNK);
		ok(engine_fake_complete(c, 2, true) == 2, "no-redo: %s completes A and B", cn);
		ok(wait_until(released, cn), "no-redo: then it hangs and is failed");
		ok(ch->dev == d, "no-redo: the channel moved to %s", d->name);
		ok(wait_until(done, (void *)(uintptr_t)last), "no-redo: every copy completes");
		ok(!memcmp(dst + 40ull * CHUNK, a_src, CHUNK),
		   "no-redo: A's destination holds A's source as it was, not B's bytes");
		ok(chunk_is(42, 42), "no-redo: the copy the engine never did was redone");
	}
}

/* An engine error on a valid descriptor: redone by the CPU, never reported. */
static void test_engine_error(struct device *d)
{
	uint64_t errs = d->errors;

	engine_fake_hold(d, true);
	memset(dst, 0, LEN);
	submit(50, 50, 0);
	submit(51, 51, 0);
	ok(wait_held(d, 2), "error: %s holds 2 copies", d->name);
	ok(engine_fake_complete(d, 1, false) == 1 && engine_fake_complete(d, 1, true) == 1,
	   "error: the first fails, the second succeeds");
	ok(wait_until(done, (void *)(uintptr_t)cookie), "error: both complete");
	ok(chunk_is(50, 50) && chunk_is(51, 51), "error: the failed copy was redone by the CPU");
	ok(errors_seen() == 0, "error: the client sees no error (%u)", errors_seen());
	ok(d->errors == errs + 1, "error: the device counts it (%lu)", (unsigned long)d->errors);
	engine_fake_hold(d, false);
}

/* The last device goes: dmad's CPU engine; a new one comes: the channel goes to it. */
static void test_cpu_and_hot_add(struct device *d)
{
	char dn[DMAD_PROTO_NAME_MAX];
	struct device *e;
	uint32_t moved = 0;

	snprintf(dn, sizeof(dn), "%s", d->name); /* d is freed once released */
	engine_fake_hold(d, false);
	ok(hotplug_remove(dn, 60000, NULL, 0) == 0, "hot-add: remove the last device %s", dn);
	ok(wait_until(released, dn), "hot-add: %s is released", dn);
	ok(ch->dev == dmad.cpu, "hot-add: the channel is on dmad's CPU engine");
	submit(60, 60, 0);
	ok(wait_until(done, (void *)(uintptr_t)cookie) && chunk_is(60, 60),
	   "hot-add: the CPU engine copies");
	if (engine_fake_add("fake-e", &e) < 0)
		tap_bail("cannot add a fake device");
	hotplug_adopt(e, &moved);
	ok(moved == 1 && ch->dev == e, "hot-add: the channel moves to the new device (%u)", moved);
	engine_fake_hold(e, true);
	submit(61, 61, 0);
	ok(wait_held(e, 1), "hot-add: %s has the next copy", e->name);
	ok(engine_fake_complete(e, 1, true) == 1 && wait_until(done, (void *)(uintptr_t)cookie) &&
		   chunk_is(61, 61),
	   "hot-add: it completes there");
	engine_fake_hold(e, false);
}

int main(int argc, char **argv)
{
	struct device *a, *b, *c, *d;

	(void)argc;
	unitd_start(argv[0]);
	if (engine_fake_add("fake-a", &a) < 0 || engine_fake_add("fake-b", &b) < 0 ||
	    engine_fake_add("fake-c", &c) < 0 || engine_fake_add("fake-d", &d) < 0)
		tap_bail("cannot add fake devices");
	/* No watchdog unless a test asks for one: a slow run must not fail a device. */
	a->watchdog_ms = b->watchdog_ms = c->watchdog_ms = d->watchdog_ms = 600000;
	dmad.copybreak = 0;
	if (workers_launch() < 0)
		tap_bail("cannot launch the worker");
	client_setup();
	ok(ch->dev == a || ch->dev == b || ch->dev == c || ch->dev == d, "the channel is on %s",
	   ch->dev ? ch->dev->name : "nothing");
	/* Put it on fake-a whatever placement chose. */
	chan_detach(ch);
	chan_attach(ch, a);

	test_drain_and_move(a, b);
	test_hang(b, c);
	test_no_redo(c, d);
	test_engine_error(d);
	test_cpu_and_hot_add(d);

	unitd_stop(cl);
	return tap_done();
}
