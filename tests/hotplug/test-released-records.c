/* SPDX-License-Identifier: MIT */
/*
 * A device that leaves stays listed until an operator clears it, and what
 * it did stays counted: `dmactl remove` leaves a REMOVED record, a hang the
 * watchdog catches a FAILED one with its reason; each keeps its counters.
 * The daemon's total of copies never goes down, not when the device that
 * did them goes, nor when the client that asked for them does. A device
 * added back under its name replaces its record; `dmactl reset-failed`
 * clears records, for admins only.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"
#include "stuck.h"

#define NOBODY 65534

static struct harness_dmad *d;
static double last_ops;

/* The status, and whether its total of copies went down since the last look. */
static struct jv *status(void)
{
	int r;
	struct jv *st = ctl_json(d->socket, &r, "status", NULL);
	double ops = status_total_ops(st);

	if (!ok(st && ops >= last_ops, "totals.ops never decreases (%.0f, then %.0f)", last_ops,
		ops))
		tap_diag("status exit %d", r);
	if (ops > last_ops)
		last_ops = ops;
	return st;
}

/* The ops of the channel of the client named @name, or -1. */
static double chan_ops(const struct jv *st, const char *name)
{
	const struct jv *c, *ch;
	double id = -1;

	for (size_t i = 0; (c = jv_at(jv_get(st, "clients"), i)); i++)
		if (!strcmp(jv_str(jv_get(c, "name"), ""), name))
			id = jv_num(jv_get(c, "id"), -1);
	for (size_t i = 0; id >= 0 && (ch = jv_at(jv_get(st, "channels"), i)); i++)
		if (jv_num(jv_get(ch, "client"), -2) == id)
			return jv_num(jv_get(ch, "ops"), -1);
	return -1;
}

static const char *reason(const struct jv *st, const char *dev)
{
	return jv_str(jv_get(status_released(st, dev), "reason"), "");
}

/* dmactl reset-failed @dev as a user who is no admin: exit 4. */
static void reset_as_nobody(const char *dev)
{
	pid_t pid;

	if (geteuid() != 0) {
		tap_skip("reset-failed as another user: needs root");
		return;
	}
	if (chmod(d->dir, 0711) < 0 || chmod(d->socket, 0666) < 0)
		tap_bail("chmod: %m");
	pid = harness_fork();
	if (pid == 0) {
		char *argv[] = {(char *)harness_env("DMACTL_BIN"),
				"--socket",
				d->socket,
				"reset-failed",
				(char *)dev,
				NULL};
		char out[256];

		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(100);
		_exit(harness_run(argv, out, sizeof(out), 10000) == 4 ? 0 : 1);
	}
	ok(harness_wait_child(pid, 15000, "dmactl reset-failed as nobody"),
	   "dmactl reset-failed as a user who is no admin: exit status 4");
}

int main(void)
{
	char dev[32], hung[32];
	struct copier k;
	struct ctl_out o;
	struct stuck s;
	struct jv *st;
	double n, m;

	harness_watchdog(100);
	/* Copybreak 1: every copy goes to dmad, where it is counted. */
	d = harness_dmad_start("--engines", "3", "--fault-injection", "--copybreak", "1", NULL);
	if (copier_init(&k, d->socket, "counted", 1 << 20, 1 << 20, 64 << 10, 7) < 0)
		tap_bail("cannot set up the copying client");
	ok(copier_round(&k, 64) == 0 && copier_round(&k, 64) == 0, "128 copies, byte-exact");
	st = status();
	n = chan_ops(st, "counted");
	snprintf(dev, sizeof(dev), "%s", status_chan_dev(st, "counted") ?: "");
	ok(n >= 1 && dev[0], "dmad counted %.0f of them on the client's channel, on %s", n, dev);
	ok(status_total_ops(st) >= n, "the total holds them (%.0f)", status_total_ops(st));
	jv_free(st);

	ctl_run(&o, d->socket, 30000, "remove", dev, NULL);
	ok(o.exit == 0, "dmactl remove %s (%d: %s)", dev, o.exit, o.err);
	st = status();
	ok(!status_dev(st, dev) && !strcmp(status_dev_state(st, dev), "REMOVED"),
	   "%s is no longer live, and listed REMOVED (%s)", dev, status_dev_state(st, dev));
	ok(!strcmp(reason(st, dev), "removed on request"), "reason: \"%s\"", reason(st, dev));
	ok(jv_num(jv_get(status_released(st, dev), "ops"), -1) >= n,
	   "its record keeps its counters (ops %.0f)",
	   jv_num(jv_get(status_released(st, dev), "ops"), -1));
	ok(status_total_ops(st) >= n, "the total still holds the client's copies (%.0f)",
	   status_total_ops(st));
	jv_free(st);

	ok(copier_round(&k, 64) == 0, "the client copies on, byte-exact, on another device");
	st = status();
	m = chan_ops(st, "counted");
	jv_free(st);
	copier_fini(&k);
	/* Its session goes once its copies have retired: its channel with it. */
	for (int64_t end = harness_now_ms() + 5000; harness_now_ms() < end; usleep(20000)) {
		st = status();
		m = chan_ops(st, "counted") < 0 ? m : chan_ops(st, "counted");
		if (chan_ops(st, "counted") < 0)
			break;
		jv_free(st);
		st = NULL;
	}
	ok(st && chan_ops(st, "counted") < 0, "the client is gone from the status");
	ok(status_total_ops(st) >= m && m >= n,
	   "and the total still holds the %.0f copies its channel made (%.0f)", m,
	   status_total_ops(st));
	jv_free(st);

	/* A hang with copies in flight: the watchdog (1 s for dma_skeleton) fails it. */
	if (!stuck_start(&s, d->socket, "stuck"))
		tap_bail("cannot set up a hung device with copies in flight");
	snprintf(hung, sizeof(hung), "%s", s.dev);
	ok(status_wait_dev(d->socket, hung, "FAILED", 10000), "a hung %s is listed FAILED", hung);
	ok(stuck_finish(&s, 10000), "its copies complete, redone by the CPU");
	stuck_fini(&s);
	st = status();
	ok(!status_dev(st, hung) && strstr(reason(st, hung), "stopped completing (fault injected)"),
	   "not live, with the reason (\"%s\")", reason(st, hung));
	ok(jv_num(jv_get(jv_get(st, "totals"), "released"), -1) == 2,
	   "totals.released counts both (%.0f)",
	   jv_num(jv_get(jv_get(st, "totals"), "released"), -1));
	jv_free(st);

	ctl_run(&o, d->socket, 10000, "status", NULL);
	ok(o.exit == 0 && strstr(o.out, "RELEASED") && strstr(o.out, "FAILED") &&
		   strstr(o.out, "stopped completing"),
	   "the table lists them after the live devices");

	/* Back under its name: live again, its record gone. */
	ctl_run(&o, d->socket, 10000, "add", dev, NULL);
	ok(o.exit == 0, "dmactl add %s (%d: %s)", dev, o.exit, o.err);
	st = status();
	ok(!strcmp(status_dev_state(st, dev), "ONLINE") && !status_released(st, dev),
	   "%s is ONLINE, and its record is gone", dev);
	jv_free(st);

	reset_as_nobody(hung);
	ok(status_wait_dev(d->socket, hung, "FAILED", 0), "and %s is still listed", hung);
	ctl_run(&o, d->socket, 10000, "reset-failed", hung, NULL);
	ok(o.exit == 0, "dmactl reset-failed %s as an admin (%d: %s)", hung, o.exit, o.err);
	st = status();
	ok(!status_released(st, hung) && !jv_at(jv_get(st, "released"), 0),
	   "clears its record: none is left");
	ok(status_total_ops(st) >= m, "the total keeps what the released devices did (%.0f)",
	   status_total_ops(st));
	jv_free(st);
	ctl_run(&o, d->socket, 10000, "reset-failed", hung, NULL);
	ok(o.exit == 1 && strstr(o.err, "no released device named"),
	   "again: exit 1, \"no released device named\" (%d: %s)", o.exit, o.err);
	ctl_run(&o, d->socket, 10000, "reset-failed", NULL);
	ok(o.exit == 0, "with no DEV, exit 0");
	harness_dmad_finish(d);
	return tap_done();
}
