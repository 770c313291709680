/* SPDX-License-Identifier: MIT */
/*
 * The parent's device loop, through dmactl as an operator would: remove a
 * device, add a new one (dma_skeletonN, a fresh N each time), inject a hang
 * (the watchdog fails the device once it holds work, and the CPU redoes
 * what it held), and once per run take every engine away for a while, so
 * that channels run on dmad's CPU engine, then add engines back. Every
 * action is printed with its time, to line up with what clients report.
 * Each status it reads must not show fewer copies in all than the last.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chaos.h"
#include "copier.h"
#include "harness.h"
#include "jsonread.h"

#define CTL_MS	     40000 /* dmactl gives up on a removal after 30 s itself */
#define MAX_DEVS     3	   /* engines are threads: more would only starve the clients */
#define GAP_MIN_MS   300
#define GAP_VARY_MS  2000
#define NODEV_MAX_S  15
#define EMPTY_TRY_MS 15000 /* to see the last device go */
#define NAME_MAX_LEN 32

static int64_t t0_ms;

/* dmactl --socket S ARGS...; exit 1 (refused: a race with the watchdog) is counted apart. */
static int ctl(struct chaos_devs *v, char *out, size_t size, const char *a, const char *b,
	       const char *c)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)v->socket,
			(char *)a,
			(char *)b,
			(char *)c,
			NULL};
	char sink[512];
	int r = harness_run(argv, out ? out : sink, out ? size : sizeof(sink), CTL_MS);

	if (r == 1) {
		v->refused++;
	} else if (r != 0) {
		v->ctl_errors++;
		tap_diag("dmactl %s %s %s: %d", a, b, c ? c : "", r);
	}
	return r;
}

static void say(const char *what, const char *dev)
{
	tap_diag("t=%.1fs %s %s", (double)(harness_now_ms() - t0_ms) / 1000, what, dev);
}

/* The devices dmactl lists (@ret_total) and, in @names, those ONLINE (returned; -1: no answer). */
static int devices(struct chaos_devs *v, char names[][NAME_MAX_LEN], int max, int *ret_total)
{
	static char out[64 << 10];
	const struct jv *d;
	struct jv *st;
	double ops;
	int n = 0;

	*ret_total = 0;
	if (ctl(v, out, sizeof(out), "--json", "status", NULL) != 0)
		return -1;
	st = jv_parse(out);
	if (!st) {
		v->ctl_errors++;
		tap_diag("dmactl --json status printed no JSON: %.200s", out);
		return -1;
	}
	/* Every engine's copies since start: removals, hangs and kills never lower it. */
	ops = jv_num(jv_get(jv_get(st, "totals"), "ops"), -1);
	if (ops < (double)v->total_ops) {
		v->ops_dropped++;
		tap_diag("totals.ops went down: %.0f after %llu", ops,
			 (unsigned long long)v->total_ops);
	} else {
		v->total_ops = (uint64_t)ops;
	}
	for (size_t i = 0; (d = jv_at(jv_get(st, "devices"), i)); i++) {
		(*ret_total)++;
		if (n < max && !strcmp(jv_str(jv_get(d, "state"), ""), "ONLINE"))
			snprintf(names[n++], NAME_MAX_LEN, "%s", jv_str(jv_get(d, "name"), "?"));
	}
	jv_free(st);
	return n;
}

static void add(struct chaos_devs *v)
{
	char name[NAME_MAX_LEN];

	snprintf(name, sizeof(name), "dma_skeleton%u", v->next_n++);
	say("add", name);
	if (ctl(v, NULL, 0, "add", name, NULL) == 0)
		v->adds++;
}

static void remove_dev(struct chaos_devs *v, const char *name)
{
	say("remove", name);
	if (ctl(v, NULL, 0, "remove", name, NULL) == 0)
		v->removes++;
}

static void hang(struct chaos_devs *v, const char *name)
{
	say("hang", name);
	if (ctl(v, NULL, 0, "fault", name, "hang") == 0)
		v->hangs++;
}

/* Take every engine away; returns when dmactl lists none (or gives up trying). */
static void start_nodev(struct chaos_devs *v, int64_t now)
{
	char names[MAX_DEVS + 8][NAME_MAX_LEN];
	int64_t end = now + EMPTY_TRY_MS;
	int n, total = 1;

	say("no device for", "a while: removing every engine");
	while (harness_now_ms() < end) {
		n = devices(v, names, MAX_DEVS + 8, &total);
		if (n < 0 || total == 0)
			break;
		for (int i = 0; i < n; i++)
			remove_dev(v, names[i]);
		/* DRAINING or OFFLINE ones (a hang caught) leave on their own. */
		if (n == 0)
			usleep(50000);
	}
	if (total)
		tap_diag("a device was still listed after %d ms of removals", EMPTY_TRY_MS);
	v->nodev_end_ms = harness_now_ms() + v->nodev_ms;
	v->nodev_at_ms = harness_now_ms(); /* from here the time without a device counts */
}

static void end_nodev(struct chaos_devs *v)
{
	v->nodev_total_ms += (uint64_t)(harness_now_ms() - v->nodev_at_ms);
	say("engines back after", "the no-device period");
	add(v);
	if (rnd(&v->rng) % 2)
		add(v);
	v->nodev_at_ms = INT64_MAX;
	v->nodev_end_ms = 0;
}

void chaos_devs_init(struct chaos_devs *v, const char *socket, uint32_t seed, unsigned seconds,
		     int64_t start_ms)
{
	unsigned nodev_s = seconds / 4 < 2 ? 2 : seconds / 4;

	*v = (struct chaos_devs){.socket = socket, .rng = seed ^ 0xde5c0de5u, .next_n = 2};
	t0_ms = start_ms;
	v->next_ms = start_ms + 500 + rnd(&v->rng) % 1000;
	v->nodev_ms = (int64_t)(nodev_s < NODEV_MAX_S ? nodev_s : NODEV_MAX_S) * 1000;
	/* Somewhere between a quarter and 40 % into the run, so it ends well before. */
	v->nodev_at_ms = start_ms + (int64_t)seconds * (250 + rnd(&v->rng) % 150);
}

void chaos_devs_step(struct chaos_devs *v, int64_t now)
{
	char names[MAX_DEVS + 8][NAME_MAX_LEN];
	int n, total;
	unsigned roll;

	if (v->nodev_end_ms) {
		if (now >= v->nodev_end_ms)
			end_nodev(v);
		return;
	}
	if (now >= v->nodev_at_ms) {
		start_nodev(v, now);
		return;
	}
	if (now < v->next_ms)
		return;
	v->next_ms = now + GAP_MIN_MS + rnd(&v->rng) % GAP_VARY_MS;
	n = devices(v, names, MAX_DEVS + 8, &total);
	if (n < 0)
		return;
	roll = n == 0 ? 1 : rnd(&v->rng) % 3;
	/* Outside the no-device period, the last engine is not removed but hung at most. */
	if (roll == 0 && n < 2)
		roll = 1;
	if (roll == 1 && total >= MAX_DEVS)
		roll = 0;
	if (roll == 1)
		add(v);
	else if (roll == 0 && n > 0)
		remove_dev(v, names[rnd(&v->rng) % (unsigned)n]);
	else if (roll == 2)
		hang(v, names[rnd(&v->rng) % (unsigned)n]);
}

void chaos_devs_finish(struct chaos_devs *v)
{
	if (v->nodev_end_ms)
		v->nodev_total_ms += (uint64_t)(harness_now_ms() - v->nodev_at_ms);
	v->nodev_end_ms = 0;
}
