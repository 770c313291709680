/* SPDX-License-Identifier: MIT */

#include "place.h"

/* Bytes copied, sampled every SAMPLE_MS; the load spans SAMPLES of them. */
#define SAMPLE_MS 100
#define SAMPLES	  10

static uint64_t last_ms;

static void sample(struct device *d, uint64_t now_ms)
{
	unsigned i = d->load_pos++ % SAMPLES;

	d->load_ms[i] = now_ms;
	d->load_bytes[i] = __atomic_load_n(&d->bytes, __ATOMIC_RELAXED);
}

void place_tick(uint64_t now_ms)
{
	if (now_ms - last_ms < SAMPLE_MS)
		return;
	last_ms = now_ms;
	for (unsigned i = 0; i < dmad.ndev; i++)
		sample(dmad.devs[i], now_ms);
	if (dmad.cpu)
		sample(dmad.cpu, now_ms);
}

uint64_t place_load(const struct device *d)
{
	unsigned newest = (d->load_pos + SAMPLES - 1) % SAMPLES, oldest;
	uint64_t ms;

	if (d->load_pos < 2)
		return 0;
	/* The oldest sample still in the ring: a second ago once it is full. */
	oldest = d->load_pos < SAMPLES ? 0 : d->load_pos % SAMPLES;
	ms = d->load_ms[newest] - d->load_ms[oldest];
	return ms ? (d->load_bytes[newest] - d->load_bytes[oldest]) * 1000 / ms : 0;
}

static bool better(const struct device *d, const struct device *best)
{
	uint64_t l = place_load(d), bl = place_load(best);

	return l < bl || (l == bl && d->nchans < best->nchans);
}

struct device *place_least(struct device *const *devs, unsigned n, int node,
			   const struct device *skip)
{
	struct device *best = NULL, *near = NULL;
	bool on_node = false;

	for (unsigned i = 0; i < n; i++) {
		struct device *d = devs[i];
		bool here = node != PLACE_NODE_ANY && d->numa_node == node;

		if (d->state != DMAD_PROTO_DEV_ONLINE || d->failed)
			continue;
		on_node |= here;
		if (d == skip)
			continue;
		if (!best || better(d, best))
			best = d;
		if (here && (!near || better(d, near)))
			near = d;
	}
	return on_node ? near : best;
}

struct device *place_pick(uint32_t caps, int node)
{
	(void)caps; /* fill is emulated on engines without it: every device qualifies */
	return place_least(dmad.devs, dmad.ndev, node, NULL);
}

struct device *place_chan(uint32_t caps, int node)
{
	struct device *d = place_pick(caps, node);

	return d ? d : dmad.cfg.cpu_engine ? dmad.cpu : NULL;
}
