/* SPDX-License-Identifier: MIT */
/*
 * `dmactl restart` while dmad rebalances a channel: of three engines, one
 * carries two busy channels of large copies; when dmad takes one of them
 * off to move it (dmactl status shows it on no device while the copies
 * it left on the engine finish), this test asks for a restart at once.
 * The channel must come back on an engine in the next dmad and every copy
 * of both clients complete, right and in order: a channel handed over as
 * one the library copies for itself would leave what waits in its ring
 * there for good.
 *
 * Whether the restart lands inside the move depends on timing; it is
 * tried up to TRIES times, until it does, and the test fails if it never
 * did: a run that missed the moment tested nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "stream.h"

#define NSTREAMS 4
#define TRIES	 5

static int restart(const char *socket)
{
	char out[1024];

	return harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), (char *)"--socket",
				      (char *)socket, (char *)"restart", NULL},
			   out, sizeof(out), 60000);
}

/* One run: returns whether a restart landed while a channel was between engines. */
static bool run(unsigned n)
{
	static const char *names[NSTREAMS] = {"s0", "s1", "s2", "s3"};
	struct stream s[NSTREAMS] = {0};
	struct harness_dmad *d = harness_dmad_start("--engines", "3", "--stripe-min", "0", NULL);
	bool opened = true, hit = false;
	int a = -1, b = -1, r;
	long ids[2];
	pthread_t t[2];

	for (int i = 0; i < NSTREAMS; i++) {
		/* Two of them carry the load: large copies, many in flight, so
		 * that a move waits a while for what its engine still holds. */
		bool busy = i == 0 || i == NSTREAMS - 1;

		s[i] = (struct stream){.socket = d->socket,
				       .name = names[i],
				       .min_len = busy ? 4 << 20 : 64 << 10,
				       .max_len = busy ? 4 << 20 : 64 << 10,
				       .window = busy ? 128 : 1,
				       .copies = UINT64_MAX / 2,
				       .seed = 31u + (uint32_t)i + n * 7};
		opened &= stream_open(&s[i]) == 0;
	}
	/* Idle engines fill evenly: the fourth channel joins the first's engine. */
	if (opened && !strcmp(dmac_chan_device(s[0].ch), dmac_chan_device(s[NSTREAMS - 1].ch)))
		a = 0, b = NSTREAMS - 1;
	if (!ok(opened && b >= 0,
		"run %u: four clients on three engines, two busy ones sharing one", n))
		tap_bail("no setup");
	ids[0] = sharing_client_id(d->socket, names[a]);
	ids[1] = sharing_client_id(d->socket, names[b]);
	pthread_create(&t[0], NULL, stream_run, &s[a]);
	pthread_create(&t[1], NULL, stream_run, &s[b]);

	/* Hot for 2 s, looked at every second: a move within some seconds. */
	for (int64_t end = harness_now_ms() + 20000; !hit && harness_now_ms() < end;)
		for (int k = 0; k < 2 && !hit; k++)
			if (sharing_chan_detached(d->socket, ids[k]) == 1) {
				r = restart(d->socket);
				ok(r == 0, "run %u: dmactl restart with %s between engines (%d)", n,
				   names[k ? b : a], r);
				hit = true;
			}
	/* Both go on after it, whichever engine they are on. */
	for (int k = 0; k < 2; k++) {
		uint64_t since = __atomic_load_n(&s[k ? b : a].done, __ATOMIC_RELAXED);
		int64_t end = harness_now_ms() + 30000;

		while (__atomic_load_n(&s[k ? b : a].done, __ATOMIC_RELAXED) < since + 32 &&
		       !__atomic_load_n(&s[k ? b : a].err, __ATOMIC_RELAXED) &&
		       harness_now_ms() < end)
			usleep(10000);
	}
	for (int k = 0; k < 2; k++) {
		__atomic_store_n(&s[k ? b : a].stop, true, __ATOMIC_RELAXED);
		pthread_join(t[k], NULL);
	}
	for (int k = 0; k < 2; k++) {
		struct stream *x = &s[k ? b : a];

		ok(x->err == 0 && !x->bad_data && !x->bad_order && !x->bad_status && !x->gaps,
		   "run %u: %s: %lu copies, each right and in order (err %d, data %u, order %u, "
		   "status %u, gaps %u)",
		   n, x->name, (unsigned long)x->done, x->err, x->bad_data, x->bad_order,
		   x->bad_status, x->gaps);
	}
	for (int i = 0; i < NSTREAMS; i++)
		stream_close(&s[i]);
	harness_dmad_finish(d);
	return hit;
}

int main(void)
{
	unsigned hits = 0;

	harness_watchdog(240);
	for (unsigned n = 0; n < TRIES && !hits; n++)
		hits += run(n);
	ok(hits, "a restart landed with a channel between engines within %u runs", TRIES);
	return tap_done();
}
