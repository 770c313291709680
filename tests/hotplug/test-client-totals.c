/* SPDX-License-Identifier: MIT */
/*
 * A client's totals never go down: what its channels did stays counted
 * when it puts one and takes another, and after it disconnects its record
 * keeps them, until `dmactl reset-failed` clears it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"

static struct harness_dmad *d;

/* The entry named @name in the array @key of the status, or NULL. */
static const struct jv *named(const struct jv *st, const char *key, const char *name)
{
	const struct jv *c;

	for (size_t i = 0; (c = jv_at(jv_get(st, key), i)); i++)
		if (!strcmp(jv_str(jv_get(c, "name"), ""), name))
			return c;
	return NULL;
}

/* Wait until the client @name's ops (@key "clients") or its record's
 * ("gone_clients") are @want; returns the last seen, or -1. */
static double wait_ops(const char *key, const char *name, double want)
{
	double ops = -1;

	for (int64_t end = harness_now_ms() + 5000; harness_now_ms() < end; usleep(20000)) {
		int r;
		struct jv *st = ctl_json(d->socket, &r, "status", NULL);

		ops = jv_num(jv_get(named(st, key, name), "ops"), -1);
		jv_free(st);
		if (ops == want)
			break;
	}
	return ops;
}

int main(void)
{
	struct dmac_chan *ch;
	struct copier k;
	struct ctl_out o;
	struct jv *st;
	double n, ops;
	int r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "2", NULL);
	if (copier_init(&k, d->socket, "totals", 1 << 20, 1 << 20, 64 << 10, 11) < 0)
		tap_bail("cannot set up the copying client");
	/* Copybreak 0: every copy through the ring, where dmad counts it. */
	dmac_chan_set_copybreak(k.ch, 0);
	r = copier_round(&k, 64) || copier_round(&k, 64);
	ok(!r, "%llu copies, byte-exact", (unsigned long long)k.copies);
	n = (double)k.copies;
	ops = wait_ops("clients", "totals", n);
	ok(ops == n, "the client's ops are its %.0f copies (%.0f)", n, ops);

	r = dmac_chan_get(k.client, DMAC_CAP_COPY, &ch);
	if (r < 0)
		tap_bail("dmac_chan_get: %s", strerror(-r));
	dmac_chan_put(k.ch);
	k.ch = ch;
	dmac_chan_set_copybreak(k.ch, 0);
	r = copier_round(&k, 64);
	ok(!r, "%.0f more on another channel, the first one put", (double)k.copies - n);
	n = (double)k.copies;
	ops = wait_ops("clients", "totals", n);
	ok(ops == n, "the client's ops hold the put channel's: %.0f (%.0f)", n, ops);

	copier_fini(&k);
	ops = wait_ops("gone_clients", "totals", n);
	ok(ops == n, "once it disconnected, its record keeps its %.0f ops (%.0f)", n, ops);
	st = ctl_json(d->socket, &r, "status", NULL);
	ok(!named(st, "clients", "totals") &&
		   jv_num(jv_get(named(st, "gone_clients", "totals"), "bytes"), -1) ==
			   (double)k.bytes &&
		   jv_num(jv_get(named(st, "gone_clients", "totals"), "uid"), -1) == getuid(),
	   "not live; its record has its bytes (%llu) and uid", (unsigned long long)k.bytes);
	jv_free(st);

	ctl_run(&o, d->socket, 10000, "status", NULL);
	ok(o.exit == 0 && strstr(o.out, "GONE CLIENTS") && strstr(o.out, "totals"),
	   "the table lists it after the live clients");

	ctl_run(&o, d->socket, 10000, "reset-failed", NULL);
	ok(o.exit == 0, "dmactl reset-failed (%d: %s)", o.exit, o.err);
	st = ctl_json(d->socket, &r, "status", NULL);
	ok(st && !jv_at(jv_get(st, "gone_clients"), 0), "clears the gone clients' records");
	ok(status_total_ops(st) >= n, "the daemon's total keeps their copies (%.0f)",
	   status_total_ops(st));
	jv_free(st);
	harness_dmad_finish(d);
	return tap_done();
}
