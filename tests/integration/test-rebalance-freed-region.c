/* SPDX-License-Identifier: MIT */
/*
 * A region freed while copies into it wait in the ring of a channel that
 * dmad is moving to another engine (a rebalance: detached from its hot
 * engine, waiting for what it left there), and a region allocated at
 * once after: the waiting copies must land in the freed region, complete
 * normally, and the new region must not see a byte of them
 * (dmac_region_free(): "A region registered later never receives them").
 *
 * Of three engines, one carries two busy channels: the victim's (large
 * copies, many in flight, every one checked) and a lighter stream's, so
 * that the victim's is the one dmad moves. The moment dmactl status shows
 * it on no device, the victim queues its copies into V, frees V and
 * allocates W. That moment depends on timing: it is tried up to TRIES
 * times, until the channel is still between engines after the free, and
 * if that never happened the last check says SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "stream.h"

#define TRIES	 5
#define LOAD_LEN (16u << 20)
#define WINDOW	 32
#define NCOPY	 8
#define COPY_LEN (64u << 10)
#define V_LEN	 (NCOPY * COPY_LEN)
#define WAIT_MS	 30000
#define LOOK_MS	 20000 /* for the move: hot for 2 s, looked at every second */

struct watch {
	const char *socket;
	long id;
	bool seen; /* the victim's channel was on no device */
	bool stop;
};

static void *watch_main(void *arg)
{
	struct watch *w = arg;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
		if (sharing_chan_detached(w->socket, w->id) == 1) {
			__atomic_store_n(&w->seen, true, __ATOMIC_RELEASE);
			break;
		}
	return NULL;
}

struct victim {
	struct dmac_client *c;
	struct dmac_chan *ch;
	uint8_t *src, *dst, *v;
	int v_fd;
	dmac_cookie_t load[WINDOW];
	unsigned bad_load;
};

static bool victim_open(struct victim *x, const char *socket)
{
	int r = dmac_connect(socket, "victim", &x->c);

	x->v = MAP_FAILED;
	x->v_fd = memfd_create("victim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r == 0 && x->v_fd >= 0 && ftruncate(x->v_fd, V_LEN) == 0 &&
	    fcntl(x->v_fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0)
		x->v = mmap(NULL, V_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, x->v_fd, 0);
	x->src = r == 0 ? dmac_region_alloc(x->c, LOAD_LEN) : NULL;
	x->dst = x->src ? dmac_region_alloc(x->c, (size_t)WINDOW * LOAD_LEN) : NULL;
	if (x->dst && x->v != MAP_FAILED)
		r = dmac_region_register(x->c, x->v_fd, x->v, V_LEN);
	if (r == 0 && x->dst)
		r = dmac_chan_get(x->c, DMAC_CAP_COPY, &x->ch);
	if (r < 0 || !x->dst || x->v == MAP_FAILED)
		return false;
	dmac_chan_set_copybreak(x->ch, 0);
	pat_fill(x->src, LOAD_LEN, 0, 3, true);
	pat_fill(x->v, V_LEN, 0, 9, false);
	for (unsigned i = 0; i < WINDOW; i++)
		x->load[i] = -1;
	return true;
}

/* Slot @i: wait for its last copy and check it, then copy into it again. */
static bool victim_step(struct victim *x, unsigned i)
{
	uint8_t *d = x->dst + (size_t)i * LOAD_LEN;

	if (x->load[i] >= 0) {
		if (dmac_wait(x->ch, x->load[i], WAIT_MS) != 0 ||
		    dmac_is_complete(x->ch, x->load[i]) != DMAC_COMPLETE)
			return false;
		x->bad_load += memcmp(d, x->src, LOAD_LEN) != 0;
		memset(d, 0, LOAD_LEN);
	}
	x->load[i] = dmac_memcpy(x->ch, d, x->src, LOAD_LEN, 0);
	dmac_issue_pending(x->ch);
	return x->load[i] >= 0;
}

/*
 * Copies into V queued, V freed, W allocated: all checked. Returns whether
 * the channel was still between engines after the free (it was before
 * the copies were queued, and a channel moves once per run): then the
 * free certainly fell inside the move.
 */
static bool victim_free(struct victim *x, const struct watch *wt, unsigned n)
{
	bool inside;
	dmac_cookie_t k[NCOPY];
	unsigned errors = 0, bad = 0;
	size_t first;
	uint8_t *w;
	int r;

	for (unsigned i = 0; i < NCOPY; i++)
		k[i] = dmac_memcpy(x->ch, x->v + i * COPY_LEN, x->src + i * COPY_LEN, COPY_LEN, 0);
	r = dmac_region_free(x->c, x->v);
	w = dmac_region_alloc(x->c, V_LEN);
	inside = sharing_chan_detached(wt->socket, wt->id) == 1;
	ok(r == 0 && w, "run %u: V freed with copies into it queued, W allocated (%d)%s", n, r,
	   inside ? "; the channel was still between engines" : "");
	if (!w)
		return inside;
	memset(w, 0, V_LEN);
	r = dmac_wait(x->ch, k[NCOPY - 1], WAIT_MS);
	for (unsigned i = 0; i < NCOPY; i++)
		errors += k[i] < 0 || dmac_is_complete(x->ch, k[i]) != DMAC_COMPLETE;
	ok(r == 0 && !errors, "run %u: the copies into V complete, each DMAC_COMPLETE (%d, %u not)",
	   n, r, errors);
	first = pat_check(x->v, V_LEN, 0, 3, true);
	ok(first == V_LEN, "run %u: V received every byte (first wrong at %zu)", n, first);
	for (size_t i = 0; i < V_LEN; i++)
		bad += w[i] != 0;
	ok(!bad, "run %u: W, allocated after the free, is untouched (%u bytes changed)", n, bad);
	dmac_region_free(x->c, w);
	return inside;
}

static bool run(unsigned n)
{
	struct harness_dmad *d = harness_dmad_start("--engines", "3", "--stripe-min", "0", NULL);
	struct stream s[3] = {0};
	struct victim x = {0};
	struct watch w = {.socket = d->socket};
	pthread_t t, tw;
	bool opened, hit = false;
	unsigned i = 0;

	/* Idle engines fill evenly: the fourth channel joins the first's engine. */
	opened = victim_open(&x, d->socket);
	for (int k = 0; k < 3; k++) {
		s[k] = (struct stream){.socket = d->socket,
				       .name = k == 2 ? "light" : "idle",
				       .min_len = 64 << 10,
				       .max_len = 64 << 10,
				       .window = k == 2 ? 8 : 1,
				       .copies = UINT64_MAX / 2,
				       .seed = 41u + (uint32_t)k};
		opened &= stream_open(&s[k]) == 0;
	}
	if (!ok(opened && !strcmp(dmac_chan_device(x.ch), dmac_chan_device(s[2].ch)),
		"run %u: the victim and a light stream share one of three engines", n))
		tap_bail("no setup");
	w.id = sharing_client_id(d->socket, "victim");
	pthread_create(&t, NULL, stream_run, &s[2]);
	pthread_create(&tw, NULL, watch_main, &w);
	for (int64_t end = harness_now_ms() + LOOK_MS; harness_now_ms() < end;
	     i = (i + 1) % WINDOW) {
		if (!victim_step(&x, i))
			break;
		if (__atomic_load_n(&w.seen, __ATOMIC_ACQUIRE)) {
			hit = victim_free(&x, &w, n);
			break;
		}
	}
	__atomic_store_n(&w.stop, true, __ATOMIC_RELAXED);
	pthread_join(tw, NULL);
	for (unsigned k = 0; k < WINDOW; k++)
		if (x.load[k] >= 0 && (dmac_wait(x.ch, x.load[k], WAIT_MS) != 0 ||
				       dmac_is_complete(x.ch, x.load[k]) != DMAC_COMPLETE ||
				       memcmp(x.dst + (size_t)k * LOAD_LEN, x.src, LOAD_LEN)))
			x.bad_load++;
	ok(!x.bad_load, "run %u: the victim's large copies all complete and right (%u not)", n,
	   x.bad_load);
	__atomic_store_n(&s[2].stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	stream_ok(&s[2]);
	for (int k = 0; k < 3; k++)
		stream_close(&s[k]);
	dmac_chan_put(x.ch);
	dmac_disconnect(x.c);
	munmap(x.v, V_LEN);
	close(x.v_fd);
	harness_dmad_finish(d);
	return hit;
}

int main(void)
{
	unsigned hits = 0;

	harness_watchdog(240);
	for (unsigned n = 0; n < TRIES && !hits; n++)
		hits += run(n);
	/* Under ASan the moment is often missed in every run: a visible SKIP,
	 * not a pass (every run's copies and both regions were checked). */
	if (hits)
		ok(true, "the victim freed V while its channel moved, within %u runs", TRIES);
	else
		tap_skip("the victim never freed V while its channel moved in %u runs", TRIES);
	return tap_done();
}
