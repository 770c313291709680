/* SPDX-License-Identifier: MIT */
/*
 * dmad's own structures in-process, for unit tests that drive the real
 * worker over fake engines (engine_fake.h) and write descriptors into a
 * channel's ring themselves: EAL and the worker with no engine, and a
 * client as on_hello, on_region_reg and on_chan_get leave one. Failures
 * bail out (tap_bail()).
 */
#ifndef DMAD_TESTS_UNITDAEMON_H
#define DMAD_TESTS_UNITDAEMON_H

#include <stddef.h>
#include <stdint.h>

struct chan;
struct client;
struct device;

/* unitd_start() - EAL, the workers (not launched), dmad's CPU engine; no
 * other engine: the test adds fake ones. */
void unitd_start(const char *prog);

/* unitd_stop() - stop the workers, free @cl, release every engine, EAL. */
void unitd_stop(struct client *cl);

/* unitd_new() - a client that said HELLO, on one end of a socketpair. */
struct client *unitd_new(void);

/* unitd_region() - a sealed memfd of @len bytes registered by @cl:
 * its id in *@ret_id, and the test's own mapping of it. */
uint8_t *unitd_region(struct client *cl, size_t len, uint16_t *ret_id);

/* unitd_chan() - a copy channel of @cl attached to @d. */
struct chan *unitd_chan(struct client *cl, struct device *d);

/* unitd_pattern() - fill @p so that no two 4 KiB chunks are alike. */
void unitd_pattern(uint8_t *p, size_t len);

/* unitd_now_ms() - CLOCK_MONOTONIC in milliseconds. */
int64_t unitd_now_ms(void);

#endif /* DMAD_TESTS_UNITDAEMON_H */
