/* SPDX-License-Identifier: MIT */
/*
 * `dmactl remove`, `add` and `fault` at their edges: a device nobody uses;
 * a name that is no device; a device that fails to probe (nothing half-
 * registered stays behind); one already there; a name coming back after its
 * removal; a removal while clients connect and take channels; two removals
 * at once, on different devices (both succeed, one of them while the other
 * still drains) and on the same device (the second is refused as "already
 * being removed"); and fault injection refused unless dmad was started
 * with --fault-injection. Exit codes and messages are what scripts rely on.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"
#include "load.h"
#include "stuck.h"

#define DRAIN_MS 3000 /* the held drain's --timeout */
#define STR_(x)	 #x
#define STR(x)	 STR_(x)

static struct ctl_out o;

static unsigned int ndev(const char *socket)
{
	int r;
	struct jv *st = ctl_json(socket, &r, "status", NULL);
	const struct jv *devs = jv_get(st, "devices");
	unsigned int n = devs ? (unsigned int)devs->n : 0;

	jv_free(st);
	return n;
}

static void remove_unused(const char *socket)
{
	struct jv *rm;
	int r;

	rm = ctl_json(socket, &r, "remove", "dma_skeleton0", NULL);
	ok(r == 0 && rm, "removing a device no client uses exits 0 (%d)", r);
	ok(!strcmp(jv_str(jv_get(rm, "removed"), ""), "dma_skeleton0") && jv_get(rm, "moved") &&
		   jv_get(rm, "moved")->n == 0 && jv_get(rm, "timed_out") &&
		   !jv_get(rm, "timed_out")->b,
	   "and reports it removed, nothing moved, no timeout");
	jv_free(rm);
	ok(status_wait_dev(socket, "dma_skeleton0", "REMOVED", 0),
	   "it is listed as released, REMOVED, not live");
	ok(ndev(socket) == 4, "four devices remain");
}

static void refusals(const char *socket)
{
	ctl_run(&o, socket, 10000, "remove", "dma_nosuch9", NULL);
	ok(o.exit == 1 && strstr(o.err, "no device named dma_nosuch9"),
	   "removing an unknown device: exit 1, \"no device named\" (%d: %s)", o.exit, o.err);

	ctl_run(&o, socket, 10000, "fault", "dma_skeleton1", "hang", NULL);
	ok(o.exit == 1 && strstr(o.err, "--fault-injection"),
	   "fault without --fault-injection: exit 1, says how to enable it (%d: %s)", o.exit,
	   o.err);
	ok(status_wait_dev(socket, "dma_skeleton1", "ONLINE", 0), "and the device stays ONLINE");

	ctl_run(&o, socket, 10000, "add", "dma_nosuchdriver0", NULL);
	ok(o.exit == 1 && strstr(o.err, "cannot add dma_nosuchdriver0"),
	   "adding a device no driver takes: exit 1, \"cannot add\" (%d: %s)", o.exit, o.err);
	/* The reason is DPDK's, passed on by dmad: whatever its words, they name the device. */
	ok(strstr(o.err, "probe found no usable DMA device: EAL: ") &&
		   strstr(strstr(o.err, "EAL: "), "dma_nosuchdriver0"),
	   "and says why, in DPDK's words (%s)", o.err);
	ok(status_wait_dev(socket, "dma_nosuchdriver0", NULL, 0) && ndev(socket) == 4,
	   "nothing half-registered: still the same four devices");
	ctl_run(&o, socket, 10000, "add", "dma_nosuchdriver0", NULL);
	ok(o.exit == 1 && strstr(o.err, "cannot add dma_nosuchdriver0") &&
		   !strstr(o.err, "already present"),
	   "and the same add fails the same way again, not as \"already present\" (%d)", o.exit);

	ctl_run(&o, socket, 10000, "add", "dma_skeleton1", NULL);
	ok(o.exit == 1 && strstr(o.err, "already present"),
	   "adding a device that is there: exit 1, \"already present\" (%d: %s)", o.exit, o.err);

	ctl_run(&o, socket, 10000, "add", "dma_skeleton0", NULL);
	ok(o.exit == 0 && status_wait_dev(socket, "dma_skeleton0", "ONLINE", 0),
	   "a removed device's name can be added again (%d: %s)", o.exit, o.err);
}

/* Connect, take a channel, copy, give it all back, again and again. */
static void connector(const char *socket, int stop_fd)
{
	struct pollfd p = {.fd = stop_fd, .events = POLLIN};
	unsigned int n = 0;
	struct copier k;
	int r;

	do {
		r = copier_init(&k, socket, "connector", 64 << 10, 64 << 10, 4 << 10, n + 1);
		if (!r) {
			dmac_chan_set_copybreak(k.ch, 0);
			r = copier_round(&k, 4);
		}
		copier_fini(&k);
		if (r < 0) {
			tap_diag("connector: connection %u: %s", n, strerror(-r));
			_exit(1);
		}
		n++;
	} while (poll(&p, 1, 0) == 0);
	tap_diag("connector: %u connections, each with a channel and verified copies", n);
	_exit(n ? 0 : 1);
}

static void remove_while_connecting(const char *socket)
{
	int stop[2];
	pid_t pid;

	if (pipe(stop) < 0)
		tap_bail("pipe");
	pid = harness_fork();
	if (pid == 0) {
		close(stop[1]);
		connector(socket, stop[0]);
	}
	close(stop[0]);
	signal(SIGPIPE, SIG_IGN); /* the connector exits early when it fails */
	usleep(300000);
	ctl_run(&o, socket, 30000, "remove", "dma_skeleton1", NULL);
	ok(o.exit == 0, "removing a device while a client connects again and again (%d: %s)",
	   o.exit, o.err);
	usleep(300000);
	if (write(stop[1], "", 1) != 1)
		tap_diag("cannot stop the connector");
	close(stop[1]);
	ok(harness_wait_child(pid, 30000, "connector"),
	   "every connection, channel and copy around the removal succeeded");
}

/* Two removals started together, on devices that carry live channels. */
static void remove_two(const char *socket)
{
	struct loader l[2];
	struct load_result res;
	struct ctl_bg a, b;
	struct jv *st;
	int ra, rb, r;

	setenv("DMAC_COPYBREAK", "0", 1);
	loader_start(&l[0], socket, "load-0", 1);
	loader_start(&l[1], socket, "load-1", 2);
	ok(loader_rounds(&l[0], 2, 20000) && loader_rounds(&l[1], 2, 20000), "two clients copy");

	ctl_bg_start(&a, socket, 30000, "remove", "dma_skeleton2", NULL);
	ctl_bg_start(&b, socket, 30000, "remove", "dma_skeleton3", NULL);
	ra = ctl_bg_wait(&a, &o);
	rb = ctl_bg_wait(&b, &o);
	ok(ra == 0 && rb == 0, "two removals at once on different devices both exit 0 (%d, %d)", ra,
	   rb);
	st = ctl_json(socket, &r, "status", NULL);
	ok(st && !status_dev(st, "dma_skeleton2") && !status_dev(st, "dma_skeleton3"),
	   "both devices are gone");
	for (int i = 0; i < 2; i++) {
		const char *on = status_chan_dev(st, i ? "load-1" : "load-0");

		ok(on && !strcmp(status_dev_state(st, on), "ONLINE"),
		   "client %d's channel is on a device left ONLINE (%s)", i, on ? on : "none");
	}
	jv_free(st);
	for (int i = 0; i < 2; i++) {
		ok(loader_rounds(&l[i], 2, 20000), "client %d still copies", i);
		ok(loader_stop(&l[i], &res) && !res.err,
		   "client %d: %llu copies complete, in order, byte-exact%s%s", i,
		   (unsigned long long)res.copies, res.err ? ": " : "", res.why);
	}
}

/* A drain held open by a hung device: a second removal of it is refused. */
static void remove_same(void)
{
	struct harness_dmad *d;
	struct jv *rm;
	struct ctl_bg bg;
	struct stuck s;
	const char *other;

	d = harness_dmad_start("--engines", "2", "--fault-injection", "--watchdog-ms", "60000",
			       NULL);
	if (!stuck_start(&s, d->socket, "stuck"))
		tap_bail("cannot set up a hung device with copies in flight");
	other = strcmp(s.dev, "dma_skeleton0") ? "dma_skeleton0" : "dma_skeleton1";
	ctl_bg_start(&bg, d->socket, 30000, "--json", "remove", s.dev, "--timeout", STR(DRAIN_MS),
		     NULL);
	ok(status_wait_dev(d->socket, s.dev, "DRAINING", DRAIN_MS - 500), "%s is DRAINING", s.dev);

	ctl_run(&o, d->socket, 10000, "remove", s.dev, NULL);
	ok(o.exit == 1 && strstr(o.err, "already being removed"),
	   "a second removal of it: exit 1, \"already being removed\" (%d: %s)", o.exit, o.err);

	ctl_run(&o, d->socket, 10000, "remove", other, NULL);
	ok(o.exit == 0, "removing %s meanwhile succeeds (%d: %s)", other, o.exit, o.err);
	ok(status_wait_dev(d->socket, s.dev, "DRAINING", 0), "while %s still drains", s.dev);

	ctl_bg_wait(&bg, &o);
	rm = jv_parse(o.out);
	ok(o.exit == 0 && jv_get(rm, "timed_out") && jv_get(rm, "timed_out")->b,
	   "the first removal exits 0 after its timeout (%d: %s)", o.exit, o.err);
	ok(!strcmp(jv_str(jv_get(jv_at(jv_get(rm, "moved"), 0), "to"), ""), "cpu"),
	   "with no device left, its channel went to the daemon's CPU engine");
	jv_free(rm);
	stuck_finish(&s, 10000);
	stuck_fini(&s);
	harness_dmad_finish(d);
}

int main(void)
{
	struct harness_dmad *d;

	harness_watchdog(90);
	/* dma_skeleton4 stays to the end: removals always have a destination. */
	d = harness_dmad_start("--engines", "5", NULL);
	remove_unused(d->socket);
	refusals(d->socket);
	remove_while_connecting(d->socket);
	remove_two(d->socket);
	ok(harness_dmad_alive(d), "dmad is still running");
	harness_dmad_finish(d);

	remove_same();
	return tap_done();
}
