/* SPDX-License-Identifier: MIT */
/*
 * After a hang, only what the engine did not complete is redone. A copy A
 * (S -> D) and then a fenced copy B that overwrites S (T -> S, write after
 * read) are both completed by the engine, but not yet reaped, when the
 * device is declared hung. Redoing A then would copy B's bytes into D; the
 * engine said it had done A, so D must hold S's old bytes.
 *
 * The engine is kept busy with a queue of large copies ahead of A and B, so
 * that the injected hang (the worker stops reaping) lands before the engine
 * gets to them; the removal's --timeout then fails the device.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"

#define FLOOD	  400
#define FLOOD_LEN (1u << 20)
#define AB_LEN	  (64u << 10)
#define WAIT_MS	  30000

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

int main(void)
{
	struct harness_dmad *dm;
	struct dmac_client *c;
	struct dmac_chan *ch;
	dmac_cookie_t a, b, k = 0;
	struct ctl_out o;
	struct mem m = {0};
	char dev[32];
	int r;

	harness_watchdog(120);
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

	for (unsigned int i = 0; i < FLOOD && k >= 0; i++)
		k = dmac_memcpy(ch, m.fdst, m.fsrc, FLOOD_LEN, 0);
	a = dmac_memcpy(ch, m.d, m.s, AB_LEN, 0);
	b = dmac_memcpy(ch, m.s, m.t, AB_LEN, DMAC_FENCE);
	ok(k >= 0 && a >= 0 && b >= 0, "%u large copies, then A and a fenced B, queued (%d %d %d)",
	   FLOOD, k, a, b);
	dmac_issue_pending(ch);

	ctl_run(&o, dm->socket, 10000, "fault", dev, "hang", NULL);
	ok(o.exit == 0, "dmactl fault %s hang exits 0 (%d: %s)", dev, o.exit, o.err);
	ok(dmac_is_complete(ch, a) == DMAC_IN_PROGRESS,
	   "A was not reaped when the hang began (else this test proves nothing)");
	/* The engine itself goes on: it finishes the queue, A and B included. */
	usleep(1500000);
	ok(dmac_is_complete(ch, b) == DMAC_IN_PROGRESS, "nothing is reaped during the hang");

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
	return tap_done();
}
