/* SPDX-License-Identifier: MIT */
/*
 * Two greedy clients share one engine, weighted 1:3, and the weights swap
 * while both have hundreds of copies in flight: dmad serves them by
 * deficit round robin, a channel at a time and only from the head of its
 * ring, so every byte of every copy must still be right, guards intact,
 * and each client's cookies complete in order. How the bytes were shared
 * is printed, not asserted: that depends on timing (tests/bench/bench-fair
 * measures it).
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "harness.h"
#include "stream.h"

#define COPIES 6000

int main(void)
{
	struct stream s[2] = {
		{.name = "greedy-light", .min_len = 1, .max_len = 64 << 10, .seed = 11},
		{.name = "greedy-heavy", .min_len = 1, .max_len = 64 << 10, .seed = 23},
	};
	pthread_t t[2];
	struct harness_dmad *d;
	char id[2][16];
	bool opened = true;

	harness_watchdog(240);
	d = harness_dmad_start("--engines", "1", NULL);
	for (int i = 0; i < 2; i++) {
		long cid;

		s[i].socket = d->socket;
		s[i].window = 512;
		s[i].copies = COPIES;
		opened &= stream_open(&s[i]) == 0;
		cid = sharing_client_id(d->socket, s[i].name);
		opened &= cid > 0;
		snprintf(id[i], sizeof(id[i]), "%ld", cid);
	}
	if (!ok(opened, "two clients, each with a channel on the one engine"))
		return tap_done();
	ok(sharing_set(d->socket, id[0], "weight", "100") == 0 &&
		   sharing_set(d->socket, id[1], "weight", "300") == 0,
	   "dmactl set: weights 100 and 300");
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, stream_run, &s[i]);

	/* Swap the weights once both are well under way. */
	while (__atomic_load_n(&s[0].done, __ATOMIC_RELAXED) < COPIES / 3 &&
	       __atomic_load_n(&s[1].done, __ATOMIC_RELAXED) < COPIES / 3)
		usleep(5000);
	tap_diag("before the swap: %llu and %llu bytes",
		 (unsigned long long)__atomic_load_n(&s[0].bytes, __ATOMIC_RELAXED),
		 (unsigned long long)__atomic_load_n(&s[1].bytes, __ATOMIC_RELAXED));
	ok(sharing_set(d->socket, id[0], "weight", "300") == 0 &&
		   sharing_set(d->socket, id[1], "weight", "100") == 0,
	   "weights swapped under load");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++)
		stream_ok(&s[i]);
	for (int i = 0; i < 2; i++)
		stream_close(&s[i]);
	harness_dmad_finish(d);
	return tap_done();
}
