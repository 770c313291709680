/* SPDX-License-Identifier: MIT */
/*
 * Ring indices are free-running 32-bit counters: the occupancy and the slot
 * of an index must stay right when head and tail cross 2^32, alone or
 * together. Checked against 64-bit counters that never wrap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "dmad_ring.h"
#include "tap.h"

#define MASK (DMAD_PROTO_SQ_ENTRIES - 1)

/* Every occupancy 0..entries for heads straddling the wrap. */
static void check_used(void)
{
	const uint64_t base = 1ull << 32;
	unsigned int bad = 0;

	for (uint64_t h = base - 2 * DMAD_PROTO_SQ_ENTRIES; h < base + DMAD_PROTO_SQ_ENTRIES; h++) {
		for (uint64_t n = 0; n <= DMAD_PROTO_SQ_ENTRIES; n++) {
			uint32_t got = dmad_proto_ring_used((uint32_t)h, (uint32_t)(h + n));

			if (got != n && bad++ < 5)
				tap_diag("head %#llx tail %#llx: used %u, want %llu",
					 (unsigned long long)h, (unsigned long long)(h + n), got,
					 (unsigned long long)n);
		}
	}
	ok(bad == 0, "ring_used matches 64-bit reference across the 2^32 wrap (%u wrong)", bad);
}

/* Consecutive indices land in consecutive slots, the wrap included. */
static void check_slots(void)
{
	unsigned int bad = 0;
	uint32_t i = UINT32_MAX - 3 * DMAD_PROTO_SQ_ENTRIES;

	for (unsigned int k = 0; k < 6 * DMAD_PROTO_SQ_ENTRIES; k++, i++) {
		if ((((uint32_t)(i + 1)) & MASK) != ((i & MASK) + 1) % DMAD_PROTO_SQ_ENTRIES)
			bad++;
	}
	ok(bad == 0, "slot of index i+1 follows slot of i across the wrap (%u wrong)", bad);
}

/*
 * A producer and a consumer driven at random over the wrap, with the same
 * full/empty tests the library and the worker make: FIFO order holds and
 * the ring never overfills.
 */
static void check_fifo(void)
{
	static uint64_t slot[DMAD_PROTO_SQ_ENTRIES];
	uint64_t head64 = (1ull << 32) - 5000, tail64 = head64;
	unsigned int bad_used = 0, bad_data = 0, fulls = 0, empties = 0, step = 0;

	srand(1);
	while (head64 < (1ull << 32) + 5000) {
		uint32_t head = (uint32_t)head64, tail = (uint32_t)tail64;
		uint32_t used = dmad_proto_ring_used(head, tail);

		if (used != tail64 - head64)
			bad_used++;
		/* Phases that favour the producer, then the consumer. */
		bool push = (step++ / 3000) % 2 ? rand() % 3 == 0 : rand() % 3 != 0;

		if (push) {
			if (used == DMAD_PROTO_SQ_ENTRIES) {
				fulls++;
				continue;
			}
			slot[tail & MASK] = tail64++;
		} else {
			if (used == 0) {
				empties++;
				continue;
			}
			if (slot[head & MASK] != head64)
				bad_data++;
			head64++;
		}
	}
	ok(bad_used == 0, "occupancy right through a random run over the wrap (%u wrong)",
	   bad_used);
	ok(bad_data == 0, "entries come out in the order they went in (%u wrong)", bad_data);
	ok(fulls > 0 && empties > 0, "run hit both full (%u) and empty (%u)", fulls, empties);
}

int main(void)
{
	tap_plan(5);
	check_used();
	check_slots();
	check_fifo();
	return tap_done();
}
