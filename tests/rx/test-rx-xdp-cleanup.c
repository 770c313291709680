/* SPDX-License-Identifier: MIT */
/*
 * dmad's XDP program is on the interface only while a flow needs it: it goes
 * when the last flow closes, when dmad exits, and when dmad is killed; and
 * a dmad program left attached the old way (netlink, as `ip link set xdp`
 * does) with no owner is removed by the next dmad at start-up.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "rxnet.h"

#define PORT	  7201
#define PROG_NAME "dmad_xdp_rx"

/* Poll `ip link` until the program is (or is not) there. As long as dmad may
 * take to start: its socket accepts while EAL starts, before the sweep. */
static bool attached_becomes(bool want)
{
	char name[64];

	for (int64_t end = harness_now_ms() + HARNESS_START_MS;;) {
		rxnet_xdp_prog(name, sizeof(name));
		if (!strcmp(name, PROG_NAME) == want || harness_now_ms() > end)
			return !strcmp(name, PROG_NAME) == want;
		nanosleep(&(struct timespec){0, 20000000}, NULL);
	}
}

static struct dmac_rx *open_flow(struct dmac_client *c, const char *what)
{
	struct dmac_rx_spec s = rxnet_spec(PORT, 2048, 64);
	struct dmac_rx *rx = NULL;
	int r = dmac_rx_open(c, &s, &rx);

	ok(r == 0, "%s: flow opened (%s)", what, strerror(-r));
	ok(attached_becomes(true), "%s: %s is attached to %s", what, PROG_NAME, RXNET_IF);
	return r == 0 ? rx : NULL;
}

static struct dmac_client *connect_to(struct harness_dmad *d)
{
	struct dmac_client *c;
	int r = dmac_connect(d->socket, "rx-cleanup", &c);

	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	return c;
}

int main(void)
{
	const char *obj = harness_env("DMAD_XDP_OBJ");
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_rx *rx, *rx2;
	struct dmac_rx_spec s2 = rxnet_spec(PORT + 1, 2048, 64);
	uint8_t buf[64];
	int r;

	harness_watchdog(90);
	rxnet_setup();
	ok(attached_becomes(false), "no XDP program before dmad");

	d = harness_dmad_start(NULL);
	c = connect_to(d);
	rx = open_flow(c, "last flow closes");
	r = dmac_rx_open(c, &s2, &rx2);
	ok(r == 0, "a second flow on the interface (%s)", strerror(-r));
	dmac_rx_close(rx);
	ok(attached_becomes(true), "one flow closed, the other keeps the program");
	dmac_rx_close(rx2);
	ok(attached_becomes(false), "the last flow closed: program detached");

	rx = open_flow(c, "dmad exits");
	harness_dmad_finish(d);
	ok(attached_becomes(false), "dmad exited: program detached");
	ok(dmac_rx_recv(rx, buf, sizeof(buf), NULL, 2000) == -ENODEV,
	   "a flow of a dmad that exited reads -ENODEV");
	dmac_rx_close(rx);
	dmac_disconnect(c);

	d = harness_dmad_start(NULL);
	c = connect_to(d);
	rx = open_flow(c, "dmad killed");
	r = harness_dmad_stop(d, SIGKILL);
	ok(r == -SIGKILL, "dmad killed (%d)", r);
	ok(attached_becomes(false), "dmad killed: the kernel released the program with its link");
	ok(dmac_rx_recv(rx, buf, sizeof(buf), NULL, 2000) == -ENODEV,
	   "a flow of a dmad that was killed reads -ENODEV");
	dmac_rx_close(rx);
	dmac_disconnect(c);

	/* The old way: attached by netlink, no owner recorded; nothing detaches it but us. */
	r = rxnet_run((char *[]){"ip", "link", "set", "dev", RXNET_IF, "xdpgeneric", "obj",
				 (char *)obj, "sec", "xdp.frags", NULL},
		      10000);
	ok(r == 0 && attached_becomes(true), "a stale %s attached with ip link (%d)", PROG_NAME, r);
	d = harness_dmad_start(NULL);
	ok(attached_becomes(false), "the next dmad removed it at start-up");
	c = connect_to(d);
	rx = open_flow(c, "after the sweep");
	dmac_rx_close(rx);
	ok(attached_becomes(false), "and detached its own again");
	dmac_disconnect(c);
	harness_dmad_finish(d);
	return tap_done();
}
