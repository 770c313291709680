/* SPDX-License-Identifier: MIT */
/*
 * New channels go to the engine with the least recent load, not the fewest
 * channels: while one client keeps one of two engines busy, another
 * client's three new channels all go to the idle one (by channel count,
 * one of them would have joined the busy engine). dmactl status shows the
 * busy engine's load and each channel's NUMA node field. Every copy of the
 * busy client is checked.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"

#define LEN (256u << 10)

static struct dmac_chan *busy_ch;
static uint8_t *src, *dst;
static bool stop;
static unsigned copies, bad;

static void *busy(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		dmac_cookie_t c = dmac_memcpy(busy_ch, dst, src, LEN, 0);

		dmac_issue_pending(busy_ch);
		if (c < 0 || dmac_wait(busy_ch, c, COPIER_WAIT_MS) < 0 ||
		    pat_check(dst, LEN, 0, 3, true) < LEN) {
			bad++;
			break;
		}
		pat_fill(dst, LEN, 0, 3, false);
		copies++;
	}
	return NULL;
}

/* The load dmactl --json status shows for @dev, and whether channels show a node field. */
static double dev_load(const char *socket, const char *dev, bool *ret_node_field)
{
	const struct jv *devs, *chans;
	double load = -1;
	struct jv *v;

	*ret_node_field = false;
	if (!(v = harness_status_json(socket)))
		return -1;
	devs = jv_get(v, "devices");
	for (size_t i = 0; devs && i < devs->n; i++)
		if (!strcmp(jv_str(jv_get(jv_at(devs, i), "name"), ""), dev))
			load = jv_num(jv_get(jv_at(devs, i), "load"), -1);
	chans = jv_get(v, "channels");
	*ret_node_field = chans && chans->n && jv_get(jv_at(chans, 0), "node");
	jv_free(v);
	return load;
}

int main(void)
{
	struct dmac_client *a = NULL, *b = NULL;
	struct dmac_chan *ch[3] = {0};
	struct harness_dmad *d;
	char busy_dev[32];
	unsigned elsewhere = 0;
	bool node_field;
	pthread_t t;
	double load;
	int r;

	harness_watchdog(90);
	d = harness_dmad_start("--engines", "2", NULL);
	r = dmac_connect(d->socket, "busy", &a);
	src = a ? dmac_region_alloc(a, LEN) : NULL;
	dst = a ? dmac_region_alloc(a, LEN) : NULL;
	if (!ok(r == 0 && src && dst && dmac_chan_get(a, DMAC_CAP_COPY, &busy_ch) == 0,
		"a busy client with a channel"))
		return tap_done();
	dmac_chan_set_copybreak(busy_ch, 0);
	pat_fill(src, LEN, 0, 3, true);
	pat_fill(dst, LEN, 0, 3, false);
	snprintf(busy_dev, sizeof(busy_dev), "%s", dmac_chan_device(busy_ch));
	pthread_create(&t, NULL, busy, NULL);
	/* The load covers the last second, sampled every 100 ms. */
	usleep(600000);

	r = dmac_connect(d->socket, "newcomer", &b);
	for (int i = 0; r == 0 && i < 3; i++)
		r = dmac_chan_get(b, DMAC_CAP_COPY, &ch[i]);
	for (int i = 0; r == 0 && i < 3; i++) {
		tap_diag("channel %d on %s", i, dmac_chan_device(ch[i]));
		elsewhere += strcmp(dmac_chan_device(ch[i]), busy_dev) != 0;
	}
	ok(r == 0 && elsewhere == 3,
	   "three new channels all on the engine that is not busy (%u "
	   "of 3 not on %s)",
	   elsewhere, busy_dev);
	load = dev_load(d->socket, busy_dev, &node_field);
	ok(load > 0, "dmactl status shows %s's load (%.0f B/s)", busy_dev, load);
	ok(node_field, "dmactl status shows each channel's node");

	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ok(copies > 0 && bad == 0, "the busy client's %u copies were all right", copies);
	for (int i = 0; i < 3; i++)
		if (ch[i])
			dmac_chan_put(ch[i]);
	dmac_chan_put(busy_ch);
	dmac_disconnect(b);
	dmac_disconnect(a);
	harness_dmad_finish(d);
	return tap_done();
}
