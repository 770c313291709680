/* SPDX-License-Identifier: MIT */
/*
 * Rebalancing: of three engines, one carries two busy channels and the
 * others nothing; once it has been above twice the mean load for a while,
 * dmad moves one of the two to an idle engine, by the move machinery of a
 * removal. Both clients' copies stay right and in cookie order throughout,
 * and the move shows in dmactl status.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"
#include "stream.h"

#define NSTREAMS 4

/* The device dmactl status shows for client @id's channel, into @dev. */
static void device_of(const char *socket, long id, char *dev, size_t size)
{
	const struct jv *chans;
	struct jv *v;

	dev[0] = '\0';
	if (!(v = harness_status_json(socket)))
		return;
	chans = jv_get(v, "channels");
	for (size_t i = 0; chans && i < chans->n; i++)
		if (jv_num(jv_get(jv_at(chans, i), "client"), -1) == (double)id)
			snprintf(dev, size, "%s", jv_str(jv_get(jv_at(chans, i), "device"), ""));
	jv_free(v);
}

int main(void)
{
	static const char *names[NSTREAMS] = {"s0", "s1", "s2", "s3"};
	struct stream s[NSTREAMS] = {0};
	char da[32], db[32];
	int a = -1, b = -1;
	long ida, idb;
	struct harness_dmad *d;
	pthread_t t[2];
	bool opened = true, moved = false;

	harness_watchdog(120);
	d = harness_dmad_start("--engines", "3", NULL);
	/* Idle engines fill evenly: the fourth channel joins the first's engine. */
	for (int i = 0; i < NSTREAMS; i++) {
		s[i] = (struct stream){.socket = d->socket,
				       .name = names[i],
				       .min_len = 64 << 10,
				       .max_len = 64 << 10,
				       .window = 64,
				       .copies = UINT64_MAX / 2,
				       .seed = 31u + (uint32_t)i};
		opened &= stream_open(&s[i]) == 0;
	}
	for (int i = 0; opened && i < NSTREAMS && b < 0; i++)
		for (int j = i + 1; j < NSTREAMS && b < 0; j++)
			if (!strcmp(dmac_chan_device(s[i].ch), dmac_chan_device(s[j].ch)))
				a = i, b = j;
	if (!ok(opened && b >= 0, "four clients on three engines, two of them sharing one"))
		return tap_done();
	ida = sharing_client_id(d->socket, names[a]);
	idb = sharing_client_id(d->socket, names[b]);
	tap_diag("%s and %s both on %s", names[a], names[b], dmac_chan_device(s[a].ch));
	pthread_create(&t[0], NULL, stream_run, &s[a]);
	pthread_create(&t[1], NULL, stream_run, &s[b]);

	/* Hot for 2 s, looked at every second, the load over a second: a few s. */
	for (int k = 0; k < 100 && !moved; k++) {
		usleep(200000);
		device_of(d->socket, ida, da, sizeof(da));
		device_of(d->socket, idb, db, sizeof(db));
		moved = da[0] && db[0] && strcmp(da, db) != 0;
	}
	ok(moved, "one of the two moved to another engine (%s: %s, %s: %s)", names[a], da, names[b],
	   db);
	usleep(300000);
	for (int i = 0; i < 2; i++)
		__atomic_store_n(&s[i == 0 ? a : b].stop, true, __ATOMIC_RELAXED);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	stream_ok(&s[a]);
	stream_ok(&s[b]);
	for (int i = 0; i < NSTREAMS; i++)
		stream_close(&s[i]);
	harness_dmad_finish(d);
	return tap_done();
}
