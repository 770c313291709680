/* SPDX-License-Identifier: MIT */
/*
 * Two clients share dmad's CPU engine (--engines cpu), with copies up to
 * 256 KiB: while both have work the worker copies the large ones a chunk
 * per turn (daemon/worker_chunk.c), leaving each at the head of its ring
 * until its last chunk. Every byte of every copy must be right, guards
 * intact, each client's cookies complete in order, at weights 1 and 10000
 * (a weight-1 channel earns a chunk only over many rounds) and after they
 * swap under load.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "harness.h"
#include "stream.h"

#define COPIES 3000

int main(void)
{
	struct stream s[2] = {
		{.name = "chunked-a", .min_len = 1, .max_len = 256 << 10, .seed = 5},
		{.name = "chunked-b", .min_len = 1, .max_len = 256 << 10, .seed = 7},
	};
	pthread_t t[2];
	struct harness_dmad *d;
	char id[2][16];
	bool opened = true;

	harness_watchdog(240);
	d = harness_dmad_start("--engines", "cpu", NULL);
	for (int i = 0; i < 2; i++) {
		long cid;

		s[i].socket = d->socket;
		s[i].window = 64;
		s[i].copies = COPIES;
		opened &= stream_open(&s[i]) == 0;
		cid = sharing_client_id(d->socket, s[i].name);
		opened &= cid > 0;
		snprintf(id[i], sizeof(id[i]), "%ld", cid);
	}
	if (!ok(opened, "two clients, each with a channel on the CPU engine"))
		return tap_done();
	ok(sharing_set(d->socket, id[0], "weight", "1") == 0 &&
		   sharing_set(d->socket, id[1], "weight", "10000") == 0,
	   "dmactl set: weights 1 and 10000");
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, stream_run, &s[i]);
	while (__atomic_load_n(&s[0].done, __ATOMIC_RELAXED) < COPIES / 3 &&
	       __atomic_load_n(&s[1].done, __ATOMIC_RELAXED) < COPIES / 3)
		usleep(5000);
	ok(sharing_set(d->socket, id[0], "weight", "10000") == 0 &&
		   sharing_set(d->socket, id[1], "weight", "1") == 0,
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
