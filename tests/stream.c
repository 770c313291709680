/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"
#include "dmad_ring.h"
#include "stream.h"

int stream_open(struct stream *s)
{
	size_t span;
	int r;

	s->slot = s->max_len + 2 * COPIER_GUARD;
	span = s->slot * s->window;
	s->rng = s->seed | 1;
	s->cookie = calloc(s->window, sizeof(*s->cookie));
	if (!s->cookie)
		return -ENOMEM;
	r = dmac_connect(s->socket, s->name, &s->client);
	if (r < 0) {
		tap_diag("%s: connect: %d", s->name, r);
		return r;
	}
	s->src = dmac_region_alloc(s->client, span);
	s->dst = dmac_region_alloc(s->client, span);
	if (!s->src || !s->dst) {
		tap_diag("%s: two regions of %zu bytes: %d", s->name, span, -errno);
		return -errno;
	}
	r = dmac_chan_get(s->client, DMAC_CAP_COPY, &s->ch);
	if (r < 0) {
		tap_diag("%s: channel: %d", s->name, r);
		return r;
	}
	/* Every copy through dmad: none done by the library's CPU. */
	dmac_chan_set_copybreak(s->ch, 0);
	pat_fill(s->src, span, 0, s->seed, true);
	pat_fill(s->dst, span, 0, s->seed, false);
	return 0;
}

static size_t copy_len(struct stream *s)
{
	if (s->min_len >= s->max_len)
		return s->max_len;
	return s->min_len + rnd_len(&s->rng, s->max_len - s->min_len + 1) - 1;
}

/* Slot @i holds copy @k of @len bytes at +GUARD: check it, then make it new. */
static void check_slot(struct stream *s, unsigned i, size_t len)
{
	size_t base = i * s->slot, off = base + COPIER_GUARD, tail = s->slot - COPIER_GUARD - len;

	if (pat_check(s->dst + base, COPIER_GUARD, base, s->seed, false) < COPIER_GUARD ||
	    pat_check(s->dst + off, len, off, s->seed, true) < len ||
	    pat_check(s->dst + off + len, tail, off + len, s->seed, false) < tail) {
		if (s->bad_data++ < 3)
			tap_diag("%s: copy into slot %u (%zu bytes) wrong", s->name, i, len);
	}
	pat_fill(s->dst + off, len, off, s->seed, false);
}

/* Newest first: once one reads complete, every older one must. */
static void check_order(struct stream *s, uint64_t from, uint64_t to)
{
	bool seen_complete = false;

	for (uint64_t k = to; k-- > from;) {
		enum dmac_status st = dmac_is_complete(s->ch, s->cookie[k % s->window]);

		if (st == DMAC_COMPLETE)
			seen_complete = true;
		else if (seen_complete && s->bad_order++ < 3)
			tap_diag("%s: cookie %d is %d after a later one completed", s->name,
				 s->cookie[k % s->window], st);
	}
}

void *stream_run(void *arg)
{
	struct stream *s = arg;
	size_t *lens = calloc(s->window, sizeof(*lens));
	uint64_t issued = 0, retired = 0;
	dmac_cookie_t last = 0;

	s->start_ms = harness_now_ms();
	while (lens && retired < s->copies && !s->err) {
		if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED))
			s->copies = issued;
		while (issued < s->copies && issued - retired < s->window) {
			unsigned i = (unsigned)(issued % s->window);
			size_t off = i * s->slot + COPIER_GUARD, len = copy_len(s);
			dmac_cookie_t c = dmac_memcpy(s->ch, s->dst + off, s->src + off, len, 0);

			if (c == -EAGAIN)
				break;
			if (c < 0) {
				s->err = c;
				break;
			}
			if (last && c != (dmac_cookie_t)dmad_proto_cookie_next((uint32_t)last))
				s->gaps++;
			last = c;
			s->cookie[i] = c;
			lens[i] = len;
			issued++;
		}
		dmac_issue_pending(s->ch);
		if (s->err || issued == retired)
			break;
		{
			unsigned i = (unsigned)(retired % s->window);
			int r = dmac_wait(s->ch, s->cookie[i], COPIER_WAIT_MS);

			if (r < 0) {
				tap_diag("%s: wait for cookie %d: %d", s->name, s->cookie[i], r);
				s->err = r;
				break;
			}
			if (dmac_is_complete(s->ch, s->cookie[i]) != DMAC_COMPLETE)
				s->bad_status++;
			if (retired % 16 == 0)
				check_order(s, retired, issued);
			check_slot(s, i, lens[i]);
			__atomic_store_n(&s->bytes, s->bytes + lens[i], __ATOMIC_RELAXED);
			__atomic_store_n(&s->done, s->done + 1, __ATOMIC_RELAXED);
			retired++;
		}
	}
	if (!lens)
		s->err = -ENOMEM;
	s->end_ms = harness_now_ms();
	free(lens);
	return NULL;
}

bool stream_ok(const struct stream *s)
{
	return ok(s->err == 0 && s->done == s->copies && !s->bad_data && !s->bad_order &&
			  !s->bad_status && !s->gaps,
		  "%s: %llu of %llu copies (%llu bytes) right and in order (error %d, wrong "
		  "data %u, out of order %u, DMAC_ERROR %u, cookie gaps %u)",
		  s->name, (unsigned long long)s->done, (unsigned long long)s->copies,
		  (unsigned long long)s->bytes, s->err, s->bad_data, s->bad_order, s->bad_status,
		  s->gaps);
}

void stream_close(struct stream *s)
{
	if (s->ch)
		dmac_chan_put(s->ch);
	if (s->client)
		dmac_disconnect(s->client);
	free(s->cookie);
	s->ch = NULL;
	s->client = NULL;
	s->cookie = NULL;
}

long sharing_client_id(const char *socket, const char *name)
{
	static char out[1 << 16];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)"--json",
			(char *)"clients",
			NULL};
	const struct jv *clients;
	struct jv *v;
	long id = -1;

	if (harness_run(argv, out, sizeof(out), 15000) != 0 || !(v = jv_parse(out)))
		return -1;
	clients = jv_get(v, "clients");
	for (size_t i = 0; clients && i < clients->n; i++)
		if (!strcmp(jv_str(jv_get(jv_at(clients, i), "name"), ""), name))
			id = (long)jv_num(jv_get(jv_at(clients, i), "id"), -1);
	jv_free(v);
	return id;
}

int sharing_chan_detached(const char *socket, long id)
{
	const struct jv *chans, *dev;
	struct jv *v = harness_status_json(socket);
	int r = -1;

	chans = v ? jv_get(v, "channels") : NULL;
	for (size_t i = 0; chans && i < chans->n; i++)
		if (jv_num(jv_get(jv_at(chans, i), "client"), -1) == (double)id) {
			dev = jv_get(jv_at(chans, i), "device");
			r = !dev || !jv_str(dev, NULL);
		}
	jv_free(v);
	return r;
}

int sharing_set(const char *socket, const char *who, const char *what, const char *value)
{
	char out[1024];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)"set",
			(char *)who,
			(char *)what,
			(char *)value,
			NULL};

	return harness_run(argv, out, sizeof(out), 15000);
}
