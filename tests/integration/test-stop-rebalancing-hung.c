/* SPDX-License-Identifier: MIT */
/*
 * SIGTERM while a rebalance moves a channel off an engine that hangs:
 * of three engines, one carries two busy channels of large copies; when
 * dmad takes one of them off to move it, the test hangs that engine
 * (--fault-injection, a watchdog longer than the test), so the move
 * cannot finish by itself, and stops dmad. dmad must still exit 0, with
 * every copy both clients issued complete, right and in order: it stops
 * a removal's hung engine at once, and a move's must not wait for the
 * watchdog either.
 *
 * Whether the hang lands inside the move depends on timing; it is tried
 * up to TRIES times, until it does (the channel is still on no device a
 * while after the hang); if it never did, the last check says SKIP.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stream.h"

#define NSTREAMS 4
#define TRIES	 5

static int dmactl_fault(const char *socket, const char *dev)
{
	char out[1024];

	return harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), (char *)"--socket",
				      (char *)socket, (char *)"fault", (char *)dev, (char *)"hang",
				      NULL},
			   out, sizeof(out), 15000);
}

/* Still on no device after @ms: the move waits on the hung engine. */
static bool stays_detached(const char *socket, long id, int64_t ms)
{
	for (int64_t end = harness_now_ms() + ms; harness_now_ms() < end; usleep(20000))
		if (sharing_chan_detached(socket, id) != 1)
			return false;
	return true;
}

/* One run: returns whether dmad stopped with a move held by a hung engine. */
static bool run(unsigned n)
{
	static const char *names[NSTREAMS] = {"s0", "s1", "s2", "s3"};
	struct stream s[NSTREAMS] = {0};
	struct harness_dmad *d =
		harness_dmad_start("--engines", "3", "--stripe-min", "0", "--fault-injection",
				   "--watchdog-ms", "3600000", NULL);
	bool opened = true, tried = false, hit = false;
	int a = -1, b = -1, r;
	char dev[64] = "";
	long ids[2];
	pthread_t t[2];

	for (int i = 0; i < NSTREAMS; i++) {
		bool busy = i == 0 || i == NSTREAMS - 1;

		s[i] = (struct stream){.socket = d->socket,
				       .name = names[i],
				       .min_len = busy ? 4 << 20 : 64 << 10,
				       .max_len = busy ? 4 << 20 : 64 << 10,
				       .window = busy ? 128 : 1,
				       .copies = UINT64_MAX / 2,
				       .seed = 47u + (uint32_t)i + n * 7};
		opened &= stream_open(&s[i]) == 0;
	}
	if (opened && !strcmp(dmac_chan_device(s[0].ch), dmac_chan_device(s[NSTREAMS - 1].ch)))
		a = 0, b = NSTREAMS - 1;
	if (!ok(opened && b >= 0,
		"run %u: four clients on three engines, two busy ones sharing one", n))
		tap_bail("no setup");
	snprintf(dev, sizeof(dev), "%s", dmac_chan_device(s[a].ch));
	ids[0] = sharing_client_id(d->socket, names[a]);
	ids[1] = sharing_client_id(d->socket, names[b]);
	pthread_create(&t[0], NULL, stream_run, &s[a]);
	pthread_create(&t[1], NULL, stream_run, &s[b]);

	/* One try per run: once the engine hangs, nothing moves off it. */
	for (int64_t end = harness_now_ms() + 20000; !tried && harness_now_ms() < end;)
		for (int k = 0; k < 2 && !tried; k++)
			if (sharing_chan_detached(d->socket, ids[k]) == 1) {
				tried = true;
				hit = dmactl_fault(d->socket, dev) == 0 &&
				      stays_detached(d->socket, ids[k], 2000);
				if (hit)
					tap_diag("run %u: %s hung with %s between engines", n, dev,
						 names[k ? b : a]);
			}
	for (int k = 0; k < 2; k++)
		__atomic_store_n(&s[k ? b : a].stop, true, __ATOMIC_RELAXED);
	/* The CPU redoes what the hung engine held (up to 512 MiB): seconds,
	 * more under ASan than harness_dmad_stop() waits. Exiting is what is
	 * checked, not how fast. */
	kill(d->pid, SIGTERM);
	for (int64_t end = harness_now_ms() + 120000;
	     harness_dmad_alive(d) && harness_now_ms() < end;)
		usleep(10000);
	r = harness_dmad_stop(d, SIGTERM);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	if (hit) {
		ok(r == 0, "run %u: dmad exits 0 on SIGTERM with a move held by hung %s (%d)", n,
		   dev, r);
		for (int k = 0; k < 2; k++) {
			struct stream *x = &s[k ? b : a];

			ok(x->err == 0 && x->done == x->copies && !x->bad_data && !x->bad_order &&
				   !x->bad_status && !x->gaps,
			   "run %u: %s: %lu of %lu copies, each right and in order (err %d, "
			   "data %u, order %u, status %u, gaps %u)",
			   n, x->name, (unsigned long)x->done, (unsigned long)x->copies, x->err,
			   x->bad_data, x->bad_order, x->bad_status, x->gaps);
		}
	}
	for (int i = 0; i < NSTREAMS; i++)
		stream_close(&s[i]);
	return hit;
}

int main(void)
{
	unsigned hits = 0;

	harness_watchdog(300);
	for (unsigned n = 0; n < TRIES && !hits; n++)
		hits += run(n);
	/* Under ASan a dmactl call takes long enough to miss every move: a
	 * skip, shown as such, not a pass (every run's copies were checked). */
	if (hits)
		ok(true, "a hang landed with a channel between engines within %u runs", TRIES);
	else
		tap_skip("no hang landed with a channel between engines in %u runs", TRIES);
	return tap_done();
}
