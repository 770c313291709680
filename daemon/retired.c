/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "retired.h"

static struct dmad_proto_released records[DMAD_PROTO_RELEASED_MAX];
static unsigned nrecords;
static struct retired_sum sum;
static struct dmad_proto_gone_client gone[DMAD_PROTO_GONE_MAX];
static unsigned ngone;

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void drop(unsigned i)
{
	memmove(&records[i], &records[i + 1], (nrecords - i - 1) * sizeof(records[0]));
	nrecords--;
}

static int find(const char *name)
{
	for (unsigned i = 0; i < nrecords; i++)
		if (!strncmp(records[i].name, name, sizeof(records[i].name)))
			return (int)i;
	return -1;
}

void retired_device(const struct device *d)
{
	/* Workers let go of it a grace period ago: its counters are final. */
	uint64_t ops = __atomic_load_n(&d->ops, __ATOMIC_RELAXED);
	uint64_t bytes = __atomic_load_n(&d->bytes, __ATOMIC_RELAXED);
	uint64_t errors = __atomic_load_n(&d->errors, __ATOMIC_RELAXED);
	struct dmad_proto_released *r;

	sum.ops += ops;
	sum.bytes += bytes;
	sum.errors += errors;
	sum.devices++;
	retired_forget(d->name);
	if (nrecords == DMAD_PROTO_RELEASED_MAX)
		drop(0);
	r = &records[nrecords++];
	*r = (struct dmad_proto_released){
		.when_us = realtime_us(),
		.ops = ops,
		.bytes = bytes,
		.errors = errors,
		.state = d->end_state ? d->end_state : DMAD_PROTO_DEV_REMOVED,
	};
	snprintf(r->name, sizeof(r->name), "%s", d->name);
	snprintf(r->driver, sizeof(r->driver), "%s", d->driver);
	snprintf(r->reason, sizeof(r->reason), "%s",
		 d->reason[0] ? d->reason : "removed on request");
}

void retired_forget(const char *name)
{
	int i = find(name);

	if (i >= 0)
		drop((unsigned)i);
}

int retired_reset(const char *name)
{
	int i, n = (int)nrecords;

	if (!name) {
		nrecords = 0;
		return n;
	}
	i = find(name);
	if (i < 0)
		return -ENOENT;
	drop((unsigned)i);
	return 1;
}

unsigned retired_records(const struct dmad_proto_released **ret_records)
{
	*ret_records = records;
	return nrecords;
}

const struct retired_sum *retired_sum(void)
{
	return &sum;
}

void retired_client(const struct dmad_proto_gone_client *rec)
{
	if (ngone == DMAD_PROTO_GONE_MAX) {
		memmove(&gone[0], &gone[1], (ngone - 1) * sizeof(gone[0]));
		ngone--;
	}
	gone[ngone] = *rec;
	if (!gone[ngone].when_us)
		gone[ngone].when_us = realtime_us();
	gone[ngone].name[sizeof(gone[ngone].name) - 1] = '\0';
	ngone++;
}

int retired_clients_reset(void)
{
	int n = (int)ngone;

	ngone = 0;
	return n;
}

unsigned retired_clients(const struct dmad_proto_gone_client **ret_records)
{
	*ret_records = gone;
	return ngone;
}

/* @n carried records before the @have of this dmad's own at @dst (of @max),
 * the oldest going first when they do not all fit. Returns the count. */
static unsigned merge(void *dst, unsigned have, const void *carried, unsigned n, unsigned max,
		      size_t size)
{
	uint8_t *d = dst;
	unsigned keep_own = have < max ? have : max;
	unsigned keep_carried = n < max - keep_own ? n : max - keep_own;

	memmove(d + keep_carried * size, d + (have - keep_own) * size, keep_own * size);
	memcpy(d, (const uint8_t *)carried + (n - keep_carried) * size, keep_carried * size);
	return keep_carried + keep_own;
}

void retired_carry(const struct retired_sum *carried, const struct dmad_proto_released *recs,
		   unsigned nrecs, const struct dmad_proto_gone_client *gone_recs,
		   unsigned ngone_recs)
{
	/* Added to, not replacing, what this dmad's own start may have released. */
	sum.ops += carried->ops;
	sum.bytes += carried->bytes;
	sum.errors += carried->errors;
	sum.devices += carried->devices;
	nrecords =
		merge(records, nrecords, recs, nrecs, DMAD_PROTO_RELEASED_MAX, sizeof(records[0]));
	ngone = merge(gone, ngone, gone_recs, ngone_recs, DMAD_PROTO_GONE_MAX, sizeof(gone[0]));
}
