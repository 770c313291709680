/* SPDX-License-Identifier: MIT */
/*
 * After a hang, only what the engine did not complete is redone. A copy A
 * (S -> D) and then a fenced copy B that overwrites S (T -> S, write after
 * read) are both completed by the engine, but not yet reaped, when the
 * device is declared hung. Redoing A then would copy B's bytes into D; the
 * engine said it had done A, so D must hold S's old bytes.
 *
 * The engine is kept busy with a queue of large copies (3 GiB) ahead of A
 * and B, so that the injected hang (the worker stops reaping) lands before
 * the engine gets to them; the test sees the engine do them in its own
 * memory, then the removal's --timeout fails the device.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"

#define FLOOD	  200
#define FLOOD_LEN (16u << 20)
#define AB_LEN	  (64u << 10)
#define WAIT_MS	  30000
#define ATTEMPTS  3

struct mem {
	uint8_t *fsrc, *fdst; /* the flood */
	uint8_t *s, *t, *d;
};

static bool setup(struct dmac_client *c, struct mem *m)
{
	m->fsrc = dmac_region_alloc(c, FLOOD_LEN);
	m->fdst = dmac_region_alloc(c, FLOOD_LEN);
	m->s = dmac_region_alloc(c, AB_LEN);
	m->t = dmac_region_alloc(c, AB_LEN);
	m->d = dmac_region_alloc(c, AB_LEN);
	if (!m->fsrc || !m->fdst || !m->s || !m->t || !m->d)
		return false;
	pat_fill(m->s, AB_LEN, 0, 3, true); /* what A must deliver */
	pat_fill(m->t, AB_LEN, 0, 4, true); /* what B writes over S */
	pat_fill(m->d, AB_LEN, 0, 3, false);
	return true;
}

/*
 * One try on a fresh dmad. Returns whether the scenario happened (the
 * engine did A and B while the hang kept the worker from reaping them); the
 * data must be right whether or not it did.
 */
static bool attempt(unsigned int n)
{
	struct harness_dmad *dm;
	struct dmac_client *c;
	struct dmac_chan *ch;
	dmac_cookie_t a, b, first, k = 0;
	struct ctl_out o;
	struct mem m = {0};
	bool window;
	char dev[32];
	int r;

	tap_diag("attempt %u", n);
	dm = harness_dmad_start("--engines", "1", "--fault-injection", "--watchdog-ms", "60000",
				NULL);
	r = dmac_connect(dm->socket, "redo", &c);
	if (r == 0 && !setup(c, &m))
		r = -ENOMEM;
	if (r == 0)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(r == 0, "regions and a channel (%d)", r))
		tap_bail("cannot set up the client");
	dmac_chan_set_copybreak(ch, 0);
	snprintf(dev, sizeof(dev), "%s", dmac_chan_device(ch));

	first = dmac_memcpy(ch, m.fdst, m.fsrc, FLOOD_LEN, 0);
	for (unsigned int i = 1; i < FLOOD && k >= 0; i++)
		k = dmac_memcpy(ch, m.fdst, m.fsrc, FLOOD_LEN, 0);
	a = dmac_memcpy(ch, m.d, m.s, AB_LEN, 0);
	b = dmac_memcpy(ch, m.s, m.t, AB_LEN, DMAC_FENCE);
	ok(first >= 0 && k >= 0 && a >= 0 && b >= 0,
	   "%u large copies, then A and a fenced B, queued (%d %d %d)", FLOOD, k, a, b);
	dmac_issue_pending(ch);
	/* Once the engine has done one, the worker has long taken the rest
	 * (it takes 32 a loop): under the hang it would submit nothing more. */
	r = dmac_wait(ch, first, WAIT_MS);
	ok(r == 0, "the first large copy completes (%d)", r);
	usleep(50000);

	ctl_run(&o, dm->socket, 10000, "fault", dev, "hang", NULL);
	ok(o.exit == 0, "dmactl fault %s hang exits 0 (%d: %s)", dev, o.exit, o.err);
	window = dmac_is_complete(ch, a) == DMAC_IN_PROGRESS;
	/* The engine itself goes on: it finishes the queue, A and B included.
	 * Its writes are in our memory: wait until S holds B's bytes. */
	for (int64_t end = harness_now_ms() + WAIT_MS;
	     window && pat_check(m.s, AB_LEN, 0, 4, true) != AB_LEN && harness_now_ms() < end;)
		usleep(10000);
	window = window && pat_check(m.s, AB_LEN, 0, 4, true) == AB_LEN &&
		 dmac_is_complete(ch, b) == DMAC_IN_PROGRESS;
	if (!window)
		tap_diag("attempt %u: the engine did not do A and B under the hang", n);

	ctl_run(&o, dm->socket, WAIT_MS, "remove", dev, "--timeout", "100", NULL);
	ok(o.exit == 0, "dmactl remove %s --timeout 100 exits 0 (%d: %s)", dev, o.exit, o.err);
	r = dmac_wait(ch, b, WAIT_MS);
	ok(r == 0 && dmac_is_complete(ch, a) == DMAC_COMPLETE, "A and B complete (%d)", r);
	r = (int)pat_check(m.d, AB_LEN, 0, 3, true);
	ok(r == AB_LEN, "D holds what S held before B (first wrong byte at %d of %u)", r, AB_LEN);
	r = (int)pat_check(m.s, AB_LEN, 0, 4, true);
	ok(r == AB_LEN, "S holds what B copied over it (first wrong byte at %d)", r);

	dmac_chan_put(ch);
	dmac_disconnect(c);
	harness_dmad_finish(dm);
	return window;
}

int main(void)
{
	unsigned int n = 0;
	bool hit = false;

	harness_watchdog(240);
	while (!hit && n < ATTEMPTS)
		hit = attempt(++n);
	if (hit)
		ok(true,
		   "the engine did A and B, unreaped, when the device was failed (attempt %u)", n);
	else
		tap_skip("the engine never did A and B under the hang in %u attempts (a busy "
			 "host); the data was right each time",
			 n);
	return tap_done();
}
