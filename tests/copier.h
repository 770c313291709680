/* SPDX-License-Identifier: MIT */
/*
 * Copies checked the way the kernel's dmatest checks them: the source holds
 * a pattern derived from each byte's offset with bit 7 set, destinations and
 * the guard bytes around them a different pattern with bit 7 clear. A byte
 * that was not written, written from the wrong offset, or written where it
 * should not have been shows up, and so does a source that changed.
 */
#ifndef TESTS_COPIER_H
#define TESTS_COPIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmaclient.h"

#define COPIER_GUARD   64 /* guard bytes on each side of every destination */
#define COPIER_WAIT_MS 20000

static inline uint8_t pat_byte(uint64_t pos, uint32_t seed, bool src)
{
	uint8_t h = (uint8_t)(((pos + seed) * 0x9e3779b97f4a7c15ull) >> 56);

	return src ? (uint8_t)(h | 0x80) : (uint8_t)(h & 0x7f);
}

void pat_fill(uint8_t *p, size_t len, uint64_t pos, uint32_t seed, bool src);
/* Offset of the first byte that breaks the pattern, or @len. */
size_t pat_check(const uint8_t *p, size_t len, uint64_t pos, uint32_t seed, bool src);

/* A small, seedable PRNG (xorshift32): runs repeat from their seed. */
uint32_t rnd(uint32_t *state);
/* Log-uniform in [1, max]: small sizes as often as large ones. */
size_t rnd_len(uint32_t *state, size_t max);

struct copier {
	struct dmac_client *client;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	size_t src_len, dst_len;
	size_t max_len;
	uint32_t seed;
	uint32_t rng;
	uint64_t copies, bytes;
};

/*
 * copier_init() - connect as @name, allocate the source and destination
 * regions, take a channel, fill the source. Returns 0 or -errno (with diag).
 */
int copier_init(struct copier *k, const char *socket, const char *name, size_t src_len,
		size_t dst_len, size_t max_len, uint32_t seed);

/*
 * copier_round() - up to @n copies of random size and offsets into fresh
 * guarded destinations, issued, waited for and verified (destinations,
 * guards, sources, and that each cookie reports DMAC_COMPLETE). Returns 0,
 * -EILSEQ on wrong data, or the library's -errno; says why with diag.
 */
int copier_round(struct copier *k, unsigned int n);

/*
 * copier_ring_and_fill() - what any engine must do for a channel: @rounds
 * rounds of copies, every one through the ring (copybreak 0), then a
 * 1000-byte fill at an odd offset, checked byte by byte. Returns 0 or as
 * copier_round() does.
 */
int copier_ring_and_fill(struct copier *k, unsigned int rounds);

/* Put the channel and disconnect. Accepts a zeroed copier. */
void copier_fini(struct copier *k);

/*
 * A separate, well-behaved client process that copies and verifies in
 * rounds until told to stop: what other clients do must never reach it.
 */
struct bystander {
	int pid;
	int stop_fd;
};

void bystander_start(struct bystander *b, const char *socket);
/* Stop it; true when it verified at least one round and never saw an error. */
bool bystander_stop(struct bystander *b);

#endif /* TESTS_COPIER_H */
