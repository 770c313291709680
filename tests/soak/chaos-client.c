/* SPDX-License-Identifier: MIT */
/*
 * A chaos client process: connect, allocate regions (each with a shadow of
 * what it must hold), take one or two channels, and run windows until the
 * parent says stop, trading channels now and then. Half of the clients
 * send every op through the ring (DMAC_COPYBREAK=0); the others let the
 * library copy short ones itself, as an application would.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "chaos-window.h"
#include "copier.h"

#define REGION_MIN  (576u << 10) /* each half holds the longest op and its guards */
#define REGION_VARY (512u << 10)
#define SWAP_EVERY  24 /* windows, on average, between channel trades */

const char *const chaos_undoc_name[UNDOC_KINDS] = {
	[UNDOC_STATUS_ERROR] = "DMAC_ERROR", [UNDOC_EINVAL] = "-EINVAL",
	[UNDOC_ENODEV] = "-ENODEV",	     [UNDOC_EIO] = "-EIO from dmac_wait",
	[UNDOC_LOST] = "never completed",    [UNDOC_SETUP] = "connect/region/channel",
	[UNDOC_OTHER] = "other errno",
};

static uint32_t r32(struct chaos_cl *c)
{
	return rnd(&c->rng);
}

static int chan_add(struct chaos_cl *c)
{
	int r = dmac_chan_get(c->client, DMAC_CAP_COPY | DMAC_CAP_FILL, &c->chans[c->nchans]);

	if (r < 0) {
		chaos_undoc(c, r == -ENODEV ? UNDOC_ENODEV : UNDOC_SETUP, "dmac_chan_get: %s",
			    strerror(-r));
		return -1;
	}
	c->nchans++;
	return 0;
}

/* Keep one or two channels: drop one, take a second, or trade one for a new one. */
static int chan_swap(struct chaos_cl *c)
{
	unsigned i = r32(c) % c->nchans, how = r32(c) % 3;

	CHAOS_STAT_ADD(c->st, chan_swaps, 1);
	if (how == 0 && c->nchans == 1)
		return chan_add(c);
	/* Every op on it is complete (windows wait for theirs): put does not have to wait. */
	dmac_chan_put(c->chans[i]);
	c->chans[i] = c->chans[--c->nchans];
	if (how == 1 && c->nchans == 1)
		return 0;
	return chan_add(c);
}

static int regions_alloc(struct chaos_cl *c)
{
	for (unsigned i = 0; i < CHAOS_NREG; i++) {
		struct chaos_region *r = &c->reg[i];

		r->len = REGION_MIN + r32(c) % REGION_VARY;
		r->mem = dmac_region_alloc(c->client, r->len);
		if (!r->mem) {
			chaos_undoc(c, errno == ENODEV ? UNDOC_ENODEV : UNDOC_SETUP,
				    "dmac_region_alloc(%zu): %s", r->len, strerror(errno));
			return -1;
		}
		r->shadow = malloc(r->len);
		if (!r->shadow)
			return -1;
		chaos_pattern(r->mem, r->len, (uint64_t)c->seed << 32 | (0xffu - i));
		memcpy(r->shadow, r->mem, r->len);
	}
	return 0;
}

void chaos_client_main(const char *socket, unsigned slot, uint32_t seed, pid_t parent,
		       struct chaos_shared *sh)
{
	static struct chaos_cl c;
	char name[16];
	int r;

	/* Never outlive the test, whatever kills it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	c = (struct chaos_cl){.slot = slot,
			      .seed = seed,
			      .rng = seed * 2654435761u + 1,
			      .trng = seed ^ 0x7157ab1eu,
			      .st = &sh->slot[slot]};
	if (r32(&c) % 2)
		setenv("DMAC_COPYBREAK", "0", 1);
	else
		unsetenv("DMAC_COPYBREAK");
	snprintf(name, sizeof(name), "chaos-%u", slot);
	r = dmac_connect(socket, name, &c.client);
	if (r < 0) {
		chaos_undoc(&c, UNDOC_SETUP, "dmac_connect: %s", strerror(-r));
		_exit(3);
	}
	if (regions_alloc(&c) < 0 || chan_add(&c) < 0 || (r32(&c) % 2 && chan_add(&c) < 0))
		_exit(3);

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		/* Exit without cleaning up: dmad reclaims, as for a killed client. */
		if (chaos_window(&c, c.chans[r32(&c) % c.nchans]) < 0)
			_exit(3);
		/* Events are advice, but unread ones pile up in the socket. */
		r = dmac_dispatch(c.client);
		if (r < 0) {
			chaos_undoc(&c, UNDOC_ENODEV, "dmac_dispatch: %s", strerror(-r));
			_exit(3);
		}
		if (r32(&c) % SWAP_EVERY == 0 && chan_swap(&c) < 0)
			_exit(3);
		/* A breath between windows: six clients, dmad and its engines share the CPUs. */
		usleep(r32(&c) % 2000);
	}
	while (c.nchans)
		dmac_chan_put(c.chans[--c.nchans]);
	dmac_disconnect(c.client);
	for (unsigned i = 0; i < CHAOS_NREG; i++)
		free(c.reg[i].shadow);
	_exit(0);
}
