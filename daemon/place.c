/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct device *place_pick(uint32_t caps, int node)
{
	struct device *best = NULL, *near = NULL;

	(void)caps; /* fill is emulated on engines without it: every device qualifies */
	for (unsigned i = 0; i < dmad.ndev; i++) {
		struct device *d = dmad.devs[i];

		if (d->state != DMAD_PROTO_DEV_ONLINE || d->failed)
			continue;
		if (!best || better(d, best))
			best = d;
		if (node != PLACE_NODE_ANY && d->numa_node == node && (!near || better(d, near)))
			near = d;
	}
	return near ? near : best;
}

struct device *place_chan(uint32_t caps, int node)
{
	struct device *d = place_pick(caps, node);

	return d ? d : dmad.cfg.cpu_engine ? dmad.cpu : NULL;
}

/* The node of @cpu: /sys/devices/system/cpu/cpuN has a nodeM link to it. */
static int node_of_cpu(long cpu)
{
	char path[64];
	struct dirent *e;
	int node = PLACE_NODE_ANY;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld", cpu);
	dir = opendir(path);
	while (dir && (e = readdir(dir)))
		if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			node = atoi(e->d_name + 4);
	if (dir)
		closedir(dir);
	return node;
}

int place_node_of_pid(pid_t pid)
{
	char path[64], buf[1024], *p;
	long cpu = -1;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return PLACE_NODE_ANY;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name, which may hold spaces and parentheses:
	 * field 3 is the state; "processor" is field 39. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 39; field++)
		p = strchr(p + 1, ' ');
	if (p)
		cpu = strtol(p + 1, NULL, 10);
	return cpu >= 0 ? node_of_cpu(cpu) : PLACE_NODE_ANY;
}
