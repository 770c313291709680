/* SPDX-License-Identifier: MIT */
/*
 * A region freed while copies into it still wait in the channel's ring,
 * then `dmactl restart`: the next dmad must take those copies into the
 * region they were written for, and a region the client registers after
 * the restart must not receive a byte of them (dmac_region_free(): "A
 * region registered later never receives them").
 *
 * The copies wait for a reason that does not depend on timing: the
 * client's byte rate (dmactl set ID rate) lets one or two through and
 * holds the rest in the ring, and a restart takes nothing more from the
 * rings. Once the new region W is allocated and zeroed, the rate is
 * lifted and every copy must complete, into V, byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "stream.h"

#define NCOPY	 8
#define COPY_LEN (64u << 10)
#define V_LEN	 (NCOPY * COPY_LEN)
#define WAIT_MS	 30000

static void on_event(const struct dmac_event *ev, void *arg)
{
	bool *restarted = arg;

	if (ev->type == DMAC_EVENT_RESTARTED)
		*restarted = true;
}

/* Read events until RESTARTED; false if it does not come within WAIT_MS. */
static bool wait_restarted(struct dmac_client *c)
{
	int64_t end = harness_now_ms() + WAIT_MS;
	bool restarted = false;

	dmac_set_event_cb(c, on_event, &restarted);
	while (!restarted && harness_now_ms() < end) {
		struct pollfd p = {.fd = dmac_fd(c), .events = POLLIN};

		if (poll(&p, 1, 100) > 0 && dmac_dispatch(c) < 0)
			break;
	}
	dmac_set_event_cb(c, NULL, NULL);
	return restarted;
}

int main(void)
{
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_chan *ch;
	dmac_cookie_t cookie[NCOPY];
	char out[4096], id[32];
	unsigned errors = 0, bad = 0, waiting = 0;
	uint8_t *src, *v, *w;
	size_t first;
	long cid;
	int fd, r;

	harness_watchdog(120);
	d = harness_dmad_start("--engines", "1", NULL);
	r = dmac_connect(d->socket, "victim", &c);
	if (!ok(r == 0, "connected (%d)", r))
		tap_bail("no client");
	/* V from our own memfd: still readable here after the free. */
	fd = memfd_create("victim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	v = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, V_LEN) == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0)
		v = mmap(NULL, V_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	src = dmac_region_alloc(c, V_LEN);
	r = v != MAP_FAILED && src ? dmac_region_register(c, fd, v, V_LEN) : -ENOMEM;
	if (r == 0)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(r == 0, "regions S and V and a channel (%d)", r))
		tap_bail("no session");
	dmac_chan_set_copybreak(ch, 0);
	pat_fill(src, V_LEN, 0, 7, true);
	pat_fill(v, V_LEN, 0, 7, false);

	cid = sharing_client_id(d->socket, "victim");
	snprintf(id, sizeof(id), "%ld", cid);
	ok(cid > 0 && sharing_set(d->socket, id, "rate", "64K") == 0,
	   "dmactl set %s rate 64K: the ring holds what is past the burst", id);
	for (unsigned i = 0; i < NCOPY; i++) {
		cookie[i] = dmac_memcpy(ch, v + i * COPY_LEN, src + i * COPY_LEN, COPY_LEN, 0);
		if (!ok(cookie[i] >= 0, "copy %u into V queued (%d)", i, cookie[i]))
			tap_bail("cannot queue");
	}
	dmac_issue_pending(ch);
	ok(dmac_is_complete(ch, cookie[NCOPY - 1]) == DMAC_IN_PROGRESS,
	   "the last copy still waits in the ring");
	r = dmac_region_free(c, v);
	ok(r == 0, "V freed with its copies waiting (%d)", r);

	r = harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), (char *)"--socket", d->socket,
				   (char *)"restart", NULL},
			out, sizeof(out), WAIT_MS);
	ok(r == 0, "dmactl restart exits 0 (%d)", r);
	ok(wait_restarted(c), "the client saw RESTARTED");
	for (unsigned i = 0; i < NCOPY; i++)
		waiting += dmac_is_complete(ch, cookie[i]) == DMAC_IN_PROGRESS;
	ok(waiting, "%u copies into V still wait after the restart", waiting);

	w = dmac_region_alloc(c, V_LEN);
	if (!ok(w != NULL, "W allocated after the restart"))
		tap_bail("no W");
	memset(w, 0, V_LEN);
	ok(sharing_set(d->socket, id, "rate", "none") == 0, "rate lifted");

	r = dmac_wait(ch, cookie[NCOPY - 1], WAIT_MS);
	ok(r == 0, "the copies complete (%d)", r);
	for (unsigned i = 0; i < NCOPY; i++)
		errors += dmac_is_complete(ch, cookie[i]) != DMAC_COMPLETE;
	ok(!errors, "every copy reports DMAC_COMPLETE (%u do not)", errors);
	first = pat_check(v, V_LEN, 0, 7, true);
	ok(first == V_LEN, "V, freed before the restart, received every byte (first wrong at %zu)",
	   first);
	for (size_t i = 0; i < V_LEN; i++)
		bad += w[i] != 0;
	ok(!bad, "W, allocated after the restart, is untouched (%u bytes changed)", bad);

	dmac_region_free(c, w);
	dmac_chan_put(ch);
	dmac_disconnect(c);
	munmap(v, V_LEN);
	close(fd);
	harness_dmad_finish(d);
	return tap_done();
}
