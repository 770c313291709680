/* SPDX-License-Identifier: MIT */
/*
 * A client that keeps a window of copies in flight on one channel for a
 * given number of copies, and checks each one as it retires, dmatest-style
 * (copier.h): the destination, the guard bytes on both sides, the status
 * of its cookie, and that completion is in cookie order. For the tests of
 * how dmad shares an engine, where two of them run side by side: open both
 * first (so that their client ids can be looked up), then run each on a
 * thread of its own.
 */
#ifndef TESTS_STREAM_H
#define TESTS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaclient.h"

struct stream {
	/* In: set before stream_open(). */
	const char *socket;
	const char *name;
	size_t min_len, max_len; /* bytes per copy, log-uniform between them */
	unsigned window;	 /* copies kept in flight */
	uint64_t copies;	 /* how many, in all */
	uint32_t seed;
	bool stop; /* set while it runs: finish what is issued, then end there */

	/* Out, after stream_run(). */
	uint64_t done;		  /* copies retired and checked; read while it runs too */
	uint64_t bytes;		  /* their bytes; likewise */
	unsigned bad_data;	  /* copies whose bytes or guards were wrong */
	unsigned bad_order;	  /* a cookie pending while a later one was complete */
	unsigned bad_status;	  /* a cookie that reported DMAC_ERROR */
	unsigned gaps;		  /* cookies that did not follow the one before */
	int err;		  /* a library call failed: its -errno */
	int64_t start_ms, end_ms; /* harness_now_ms() around the run */

	struct dmac_client *client;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	size_t slot;
	dmac_cookie_t *cookie;
	uint32_t rng;
};

/* stream_open() - connect, two regions of window slots, a channel that
 * sends every copy to dmad (copybreak 0). Returns 0 or -errno (with diag). */
int stream_open(struct stream *s);

/* stream_run() - the copies, as a thread's body (@arg: the stream). */
void *stream_run(void *arg);

/* stream_ok() - did it finish every copy, each right and in order? Says why not. */
bool stream_ok(const struct stream *s);

void stream_close(struct stream *s);

/*
 * sharing_client_id() - the id of the client named @name, from `dmactl
 * clients --json` on @socket; -1 if there is none.
 */
long sharing_client_id(const char *socket, const char *name);

/*
 * sharing_chan_detached() - is client @id's channel on no device in `dmactl
 * status` on @socket (a removal or a rebalance moving it)? 1 yes, 0 no,
 * -1 the client has no channel listed.
 */
int sharing_chan_detached(const char *socket, long id);

/* sharing_set() - `dmactl set WHO WHAT VALUE` on @socket; its exit status. */
int sharing_set(const char *socket, const char *who, const char *what, const char *value);

#endif /* TESTS_STREAM_H */
