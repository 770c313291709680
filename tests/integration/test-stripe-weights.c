/* SPDX-License-Identifier: MIT */
/*
 * Three greedy clients on two engines (so that at least two share one)
 * with striping on (dmad --stripe-min 64 KiB): copies of up to 2 MiB split
 * over both engines while deficit round robin shares each engine between
 * the channels on it, weighted 1:2:3, and the weights change while every
 * client has its window in flight. Every byte of every copy must be right,
 * guards intact, cookies complete in order. How the bytes were shared is
 * printed, not asserted (tests/bench/bench-fair measures sharing).
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "harness.h"
#include "stream.h"

#define NSTREAM 3
#define COPIES	600

int main(void)
{
	static const char *const first[NSTREAM] = {"100", "200", "300"};
	static const char *const then[NSTREAM] = {"300", "100", "200"};
	struct stream s[NSTREAM];
	pthread_t t[NSTREAM];
	struct harness_dmad *d;
	char id[NSTREAM][16];
	bool opened = true, set = true;

	harness_watchdog(240);
	d = harness_dmad_start("--engines", "2", "--stripe-min", "65536", NULL);
	for (int i = 0; i < NSTREAM; i++) {
		static const char *const names[NSTREAM] = {"striper-a", "striper-b", "striper-c"};
		long cid;

		s[i] = (struct stream){.name = names[i],
				       .socket = d->socket,
				       .min_len = 1,
				       .max_len = 2 << 20,
				       .window = 32,
				       .copies = COPIES,
				       .seed = 31 + (uint32_t)i};
		opened &= stream_open(&s[i]) == 0;
		cid = sharing_client_id(d->socket, s[i].name);
		opened &= cid > 0;
		snprintf(id[i], sizeof(id[i]), "%ld", cid);
	}
	if (!ok(opened, "three clients, each with a channel on one of two engines"))
		return tap_done();
	for (int i = 0; i < NSTREAM; i++)
		set &= sharing_set(d->socket, id[i], "weight", first[i]) == 0;
	ok(set, "dmactl set: weights 100, 200, 300");
	for (int i = 0; i < NSTREAM; i++)
		pthread_create(&t[i], NULL, stream_run, &s[i]);

	/* Change them once every client is well under way. */
	for (int i = 0; i < NSTREAM; i++)
		while (__atomic_load_n(&s[i].done, __ATOMIC_RELAXED) < COPIES / 3 &&
		       !__atomic_load_n(&s[i].err, __ATOMIC_RELAXED))
			usleep(5000);
	set = true;
	for (int i = 0; i < NSTREAM; i++)
		set &= sharing_set(d->socket, id[i], "weight", then[i]) == 0;
	ok(set, "weights changed under load to 300, 100, 200");
	for (int i = 0; i < NSTREAM; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NSTREAM; i++) {
		stream_ok(&s[i]);
		tap_diag("%s: %llu bytes in %lld ms", s[i].name, (unsigned long long)s[i].bytes,
			 (long long)(s[i].end_ms - s[i].start_ms));
	}
	for (int i = 0; i < NSTREAM; i++)
		stream_close(&s[i]);
	harness_dmad_finish(d);
	return tap_done();
}
