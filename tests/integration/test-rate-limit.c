/* SPDX-License-Identifier: MIT */
/*
 * A client limited to 50 MiB/s (dmactl set ID rate 50M) copies 40 MiB
 * with 64 copies in flight: none is refused or fails, every one lands
 * right and in order, and it gets no more than twice its rate over the
 * run (generous: a correctness test on a shared machine, so there is no
 * lower bound). The limit shows in dmactl status; lifting it (rate none)
 * lets the rest run unlimited. A second client of the same uid, limited
 * per uid, gets the same treatment.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"
#include "stream.h"

#define RATE	(50ull << 20)
#define LEN	(64u << 10)
#define LIMITED (40ull << 20)

/* The rate dmactl --json status shows for client @id, or 0. */
static double status_rate(const char *socket, long id)
{
	const struct jv *shares;
	double rate = 0;
	struct jv *v;

	if (!(v = harness_status_json(socket)))
		return 0;
	shares = jv_get(v, "shares");
	for (size_t i = 0; shares && i < shares->n; i++)
		if (jv_num(jv_get(jv_at(shares, i), "client"), -1) == (double)id)
			rate = jv_num(jv_get(jv_at(shares, i), "rate"), 0);
	jv_free(v);
	return rate;
}

/* Run @s to the end, limited by whatever was set; true when the rate held. */
static bool bounded(struct stream *s, const char *what)
{
	pthread_t t;
	double secs, mib_s;

	pthread_create(&t, NULL, stream_run, s);
	pthread_join(t, NULL);
	stream_ok(s);
	secs = (double)(s->end_ms - s->start_ms) / 1000;
	mib_s = (double)s->bytes / (1 << 20) / (secs > 0 ? secs : 1e-3);
	return ok(secs >= 0.5 && mib_s <= 2.0 * (double)(RATE >> 20),
		  "%s: %.1f MiB in %.2f s, %.1f MiB/s: at most twice the %llu MiB/s limit", what,
		  (double)s->bytes / (1 << 20), secs, mib_s, RATE >> 20);
}

int main(void)
{
	struct stream s = {.name = "limited", .min_len = LEN, .max_len = LEN, .seed = 5};
	struct stream u = {.name = "limited-uid", .min_len = LEN, .max_len = LEN, .seed = 7};
	struct harness_dmad *d;
	char id[16];
	long cid = -1;

	harness_watchdog(150);
	d = harness_dmad_start("--engines", "1", NULL);
	s.socket = d->socket;
	s.window = 64;
	s.copies = LIMITED / LEN;
	if (!ok(stream_open(&s) == 0 && (cid = sharing_client_id(d->socket, s.name)) > 0,
		"a client with a channel"))
		return tap_done();
	snprintf(id, sizeof(id), "%ld", cid);
	ok(sharing_set(d->socket, id, "rate", "50M") == 0, "dmactl set %s rate 50M", id);
	ok(status_rate(d->socket, cid) == (double)RATE, "dmactl status shows its rate (%.0f)",
	   status_rate(d->socket, cid));
	bounded(&s, "per client");

	/* Lifted: the same client, as many copies again, at full speed. */
	ok(sharing_set(d->socket, id, "rate", "none") == 0, "dmactl set %s rate none", id);
	ok(status_rate(d->socket, cid) == 0, "dmactl status shows no rate");
	s.done = s.bytes = 0;
	{
		pthread_t t;

		pthread_create(&t, NULL, stream_run, &s);
		pthread_join(t, NULL);
		stream_ok(&s);
	}
	stream_close(&s);

	/* Per uid: this test's own uid, for every client of it together. */
	{
		char uid[32];

		snprintf(uid, sizeof(uid), "uid=%u", (unsigned)getuid());
		ok(sharing_set(d->socket, uid, "rate", "50M") == 0, "dmactl set %s rate 50M", uid);
	}
	u.socket = d->socket;
	u.window = 64;
	u.copies = LIMITED / LEN;
	if (ok(stream_open(&u) == 0, "a new client of that uid"))
		bounded(&u, "per uid");
	stream_close(&u);
	harness_dmad_finish(d);
	return tap_done();
}
