/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"
#include "stuck.h"

#define COPY_LEN (8u << 10)
#define MEM_LEN	 (2 * STUCK_MAX * COPY_LEN)
#define DST	 (MEM_LEN / 2)
/* Long enough for the worker to have taken the copies off the ring, so that
 * the hung device holds them (a removal then has something to drain). */
#define HELD_MS 300

bool stuck_start(struct stuck *s, const char *socket, const char *name)
{
	struct ctl_out o;
	int r;

	memset(s, 0, sizeof(*s));
	r = dmac_connect(socket, name, &s->client);
	s->mem = r == 0 ? dmac_region_alloc(s->client, MEM_LEN) : NULL;
	if (s->mem)
		r = dmac_chan_get(s->client, DMAC_CAP_COPY, &s->ch);
	if (!ok(s->mem && r == 0, "%s: a region and a channel (%d)", name, r))
		return false;
	dmac_chan_set_copybreak(s->ch, 0);
	snprintf(s->dev, sizeof(s->dev), "%s", dmac_chan_device(s->ch));
	if (!ok(s->dev[0], "%s: the channel is on an engine (%s)", name, s->dev))
		return false;

	ctl_run(&o, socket, 10000, "fault", s->dev, "hang", NULL);
	if (!ok(o.exit == 0, "dmactl fault %s hang exits 0 (%d: %s)", s->dev, o.exit, o.err))
		return false;

	pat_fill(s->mem, DST, 0, 7, true);
	pat_fill(s->mem + DST, MEM_LEN - DST, 0, 7, false);
	for (r = 0; s->n < STUCK_COPIES && r >= 0;)
		r = stuck_queue(s);
	if (!ok(r >= 0, "%s: %u copies queued (%d)", name, s->n, r))
		return false;
	r = dmac_wait(s->ch, s->cookie[0], HELD_MS);
	return ok(r == -ETIMEDOUT, "%s: no copy completes on the hung %s (%d)", name, s->dev, r);
}

dmac_cookie_t stuck_queue(struct stuck *s)
{
	dmac_cookie_t c;

	if (s->n == STUCK_MAX)
		return -EAGAIN;
	c = dmac_memcpy(s->ch, s->mem + DST + s->n * COPY_LEN, s->mem + s->n * COPY_LEN, COPY_LEN,
			0);
	if (c >= 0)
		s->cookie[s->n++] = c;
	dmac_issue_pending(s->ch);
	return c;
}

bool stuck_finish(struct stuck *s, int timeout_ms)
{
	int r = dmac_wait(s->ch, s->cookie[s->n - 1], timeout_ms);
	unsigned int bad = 0;

	if (!ok(r == 0, "the copies held by the hung device completed (%d)", r))
		return false;
	for (unsigned int i = 0; i < s->n; i++) {
		bad += dmac_is_complete(s->ch, s->cookie[i]) != DMAC_COMPLETE;
		bad += pat_check(s->mem + DST + i * COPY_LEN, COPY_LEN, i * COPY_LEN, 7, true) !=
		       COPY_LEN;
	}
	/* Nothing was written past the last copy. */
	bad += pat_check(s->mem + DST + s->n * COPY_LEN, (STUCK_MAX - s->n) * COPY_LEN,
			 s->n * COPY_LEN, 7, false) != (STUCK_MAX - s->n) * COPY_LEN;
	return ok(!bad, "all %u of them report complete and hold the right bytes (%u wrong)", s->n,
		  bad);
}

void stuck_fini(struct stuck *s)
{
	dmac_chan_put(s->ch);
	dmac_disconnect(s->client);
	s->ch = NULL;
	s->client = NULL;
}
