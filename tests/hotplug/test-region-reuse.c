/* SPDX-License-Identifier: MIT */
/*
 * A region freed while copies into it wait in a channel's ring, and a new
 * region allocated at once (the daemon could give it the freed one's id):
 * the waiting copies must land in the region they were written for and
 * complete normally, and the new region must not see a byte of them.
 *
 * The copies are kept waiting three ways: behind a flood of large copies
 * that keeps the only engine busy, issued or only written when the region
 * is freed; and on a channel detached from a device that is being removed
 * (a hung device whose drain lasts until the removal's --timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"
#include "stuck.h"

#define NCOPY	  8
#define COPY_LEN  (128u << 10)
#define V_LEN	  (NCOPY * COPY_LEN)
#define FLOOD_LEN (1u << 20)
#define WAIT_MS	  30000

/* One client: sources, the region V the copies go to, and a channel. */
struct victim {
	struct dmac_client *client;
	struct dmac_chan *ch;
	uint8_t *src;
	uint8_t *v; /* registered from our own memfd: still readable after the free */
	int v_fd;
	dmac_cookie_t cookie[NCOPY];
};

static bool victim_init(struct victim *x, const char *socket)
{
	int r = dmac_connect(socket, "victim", &x->client);

	x->v = MAP_FAILED;
	x->v_fd = memfd_create("victim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r == 0 && x->v_fd >= 0 && ftruncate(x->v_fd, V_LEN) == 0 &&
	    fcntl(x->v_fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0)
		x->v = mmap(NULL, V_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, x->v_fd, 0);
	x->src = r == 0 ? dmac_region_alloc(x->client, V_LEN) : NULL;
	if (x->src && x->v != MAP_FAILED)
		r = dmac_region_register(x->client, x->v_fd, x->v, V_LEN);
	if (r == 0 && x->src)
		r = dmac_chan_get(x->client, DMAC_CAP_COPY, &x->ch);
	if (!ok(r == 0 && x->src && x->v != MAP_FAILED, "victim: regions and a channel (%d)", r))
		return false;
	dmac_chan_set_copybreak(x->ch, 0);
	pat_fill(x->src, V_LEN, 0, 11, true);
	pat_fill(x->v, V_LEN, 0, 11, false);
	return true;
}

/* Write NCOPY copies src -> V; issue them or leave them for the free to issue. */
static bool victim_queue(struct victim *x, bool issue)
{
	for (unsigned int i = 0; i < NCOPY; i++) {
		x->cookie[i] =
			dmac_memcpy(x->ch, x->v + i * COPY_LEN, x->src + i * COPY_LEN, COPY_LEN, 0);
		if (!ok(x->cookie[i] >= 0, "copy %u into V queued (%d)", i, x->cookie[i]))
			return false;
	}
	if (issue)
		dmac_issue_pending(x->ch);
	return true;
}

/*
 * Free V while the copies wait, allocate W and zero it, then wait: every
 * copy completes, V holds the data, W holds zeros.
 */
static void victim_free_and_check(struct victim *x, const char *how)
{
	unsigned int bad = 0, errors = 0;
	size_t first;
	uint8_t *w;
	int r;

	ok(dmac_is_complete(x->ch, x->cookie[0]) == DMAC_IN_PROGRESS,
	   "%s: the copies are still waiting when V is freed", how);
	r = dmac_region_free(x->client, x->v);
	ok(r == 0, "%s: V freed (%d)", how, r);
	w = dmac_region_alloc(x->client, V_LEN);
	if (!ok(w != NULL, "%s: W allocated right after", how))
		return;
	memset(w, 0, V_LEN);

	r = dmac_wait(x->ch, x->cookie[NCOPY - 1], WAIT_MS);
	ok(r == 0, "%s: the copies complete (%d)", how, r);
	for (unsigned int i = 0; i < NCOPY; i++)
		errors += dmac_is_complete(x->ch, x->cookie[i]) != DMAC_COMPLETE;
	ok(!errors, "%s: every copy reports DMAC_COMPLETE (%u do not)", how, errors);
	first = pat_check(x->v, V_LEN, 0, 11, true);
	ok(first == V_LEN, "%s: V, freed, received every byte written for it (first wrong at %zu)",
	   how, first);
	for (size_t i = 0; i < V_LEN; i++)
		bad += w[i] != 0;
	ok(!bad, "%s: W, allocated after the free, is untouched (%u bytes changed)", how, bad);
	dmac_region_free(x->client, w);
	/* V again, for the next case. */
	pat_fill(x->v, V_LEN, 0, 11, false);
	r = dmac_region_register(x->client, x->v_fd, x->v, V_LEN);
	ok(r == 0, "%s: V registered again (%d)", how, r);
}

static void victim_fini(struct victim *x)
{
	dmac_chan_put(x->ch);
	dmac_disconnect(x->client);
	munmap(x->v, V_LEN);
	close(x->v_fd);
}

/* Fill the only engine with large copies, so that a second channel waits. */
struct flood {
	struct dmac_client *client;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	dmac_cookie_t last;
};

static void flood_start(struct flood *f, const char *socket)
{
	int r = dmac_connect(socket, "flood", &f->client);
	unsigned int n = 0;

	f->src = r == 0 ? dmac_region_alloc(f->client, FLOOD_LEN) : NULL;
	f->dst = f->src ? dmac_region_alloc(f->client, FLOOD_LEN) : NULL;
	if (f->dst)
		r = dmac_chan_get(f->client, DMAC_CAP_COPY, &f->ch);
	if (!ok(r == 0 && f->dst, "flood: regions and a channel (%d)", r))
		tap_bail("cannot set up the flood");
	dmac_chan_set_copybreak(f->ch, 0);
	/* A full ring: with the engine's queue, hundreds of milliseconds of work. */
	for (dmac_cookie_t c = 0; c >= 0; n++) {
		c = dmac_memcpy(f->ch, f->dst, f->src, FLOOD_LEN, 0);
		if (c >= 0)
			f->last = c;
	}
	dmac_issue_pending(f->ch);
	ok(n > 512, "flood: %u copies of 1 MiB queued", n - 1);
	/* Let the worker fill the engine before the victim queues behind it. */
	usleep(20000);
}

static void flood_finish(struct flood *f)
{
	int r = dmac_wait(f->ch, f->last, WAIT_MS);

	ok(r == 0, "flood: its copies complete (%d)", r);
	dmac_chan_put(f->ch);
	dmac_disconnect(f->client);
}

static void behind_a_busy_engine(void)
{
	struct harness_dmad *d = harness_dmad_start("--engines", "1", NULL);
	struct victim x = {0};
	struct flood f = {0};

	if (!victim_init(&x, d->socket))
		tap_bail("cannot set up the victim");
	flood_start(&f, d->socket);
	if (victim_queue(&x, true))
		victim_free_and_check(&x, "issued, engine busy");
	flood_finish(&f);

	flood_start(&f, d->socket);
	if (victim_queue(&x, false))
		victim_free_and_check(&x, "written, not issued, engine busy");
	flood_finish(&f);

	victim_fini(&x);
	harness_dmad_finish(d);
}

static void on_a_channel_being_moved(void)
{
	struct harness_dmad *d = harness_dmad_start("--engines", "1", "--fault-injection",
						    "--watchdog-ms", "60000", NULL);
	struct victim x = {0};
	struct ctl_out o;
	struct ctl_bg bg;
	struct stuck s;
	int r;

	if (!victim_init(&x, d->socket) || !stuck_start(&s, d->socket, "stuck"))
		tap_bail("cannot set up the clients");
	ctl_bg_start(&bg, d->socket, WAIT_MS, "remove", s.dev, "--timeout", "1500", NULL);
	ok(status_wait_dev(d->socket, s.dev, "DRAINING", 5000), "%s is DRAINING", s.dev);
	if (victim_queue(&x, true))
		victim_free_and_check(&x, "issued, channel detached for a removal");
	r = ctl_bg_wait(&bg, &o);
	ok(r == 0, "dmactl remove exits 0 (%d: %s)", r, o.err);
	stuck_finish(&s, WAIT_MS);
	stuck_fini(&s);
	victim_fini(&x);
	harness_dmad_finish(d);
}

int main(void)
{
	harness_watchdog(150);
	behind_a_busy_engine();
	on_a_channel_being_moved();
	return tap_done();
}
