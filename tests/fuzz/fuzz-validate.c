/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: validate_desc(), the only thing between a client's ring
 * and an engine that writes wherever it is told. Every input is a region
 * table and one descriptor; the verdict is checked against an independent
 * model in 128-bit arithmetic, so a wrap-around in the daemon's checks shows
 * up as a disagreement, not only as a crash.
 *
 * Input: n (table slots), k (slots in use; bit 7: pass no table at all),
 * k x {slot, 5-byte length}, then the 32-byte descriptor (zero-padded).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define MAX_USED 8
/* Fake addresses, never dereferenced: far apart so no region can reach the next. */
#define VA_STRIDE   (1ull << 41)
#define IOVA_OFFSET 0x5000000000000ull

typedef unsigned __int128 u128;

static struct region_table *tab;
static struct region_view views[MAX_USED];

static const uint8_t *take(const uint8_t **p, size_t *n, size_t k)
{
	const uint8_t *r = *p;

	if (*n < k)
		return NULL;
	*p += k;
	*n -= k;
	return r;
}

/* [off, off + len) inside @v, computed without any chance of wrapping. */
static int inside(const struct region_view *v, uint64_t off, uint32_t len)
{
	return v && (u128)off + len <= v->len;
}

static const struct region_view *slot(const struct region_table *t, uint32_t id)
{
	return t && id < t->n ? t->slot[id] : NULL;
}

static int model(const struct dmad_proto_desc *d, const struct region_table *t)
{
	const struct region_view *src = slot(t, d->src_region), *dst = slot(t, d->dst_region);

	if (!d->len ||
	    (d->flags & ~(DMAD_PROTO_DF_FENCE | DMAD_PROTO_DF_LLC | DMAD_PROTO_DF_NO_STRIPE)) ||
	    d->rsvd)
		return 0;
	if (!inside(dst, d->dst_off, d->len))
		return 0;
	if (d->op == DMAD_PROTO_OP_FILL)
		return d->src_region == 0;
	if (d->op != DMAD_PROTO_OP_COPY || !inside(src, d->src_off, d->len))
		return 0;
	/* Overlapping source and destination in one region is refused. */
	return src != dst || (u128)d->src_off + d->len <= d->dst_off ||
	       (u128)d->dst_off + d->len <= d->src_off;
}

static void check_accepted(const struct dmad_proto_desc *d, const struct region_table *t,
			   const struct xfer *x)
{
	const struct region_view *dst = slot(t, d->dst_region), *src = slot(t, d->src_region);

	if (x->op != d->op || x->flags != d->flags || x->len != d->len)
		abort();
	if (x->dst != dst->iova + d->dst_off || x->dst_va != dst->va + d->dst_off)
		abort();
	if (d->op == DMAD_PROTO_OP_COPY &&
	    (x->src != src->iova + d->src_off || x->src_va != src->va + d->src_off))
		abort();
	if (d->op == DMAD_PROTO_OP_FILL && x->pattern != d->src_off)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmad_proto_desc d = {0};
	const uint8_t *p;
	struct xfer x, before;
	unsigned used;
	bool no_table;
	int ret;

	if (!tab)
		tab = malloc(sizeof(*tab) + 256 * sizeof(tab->slot[0]));
	p = take(&data, &size, 2);
	if (!p || !tab)
		return 0;
	memset(tab, 0, sizeof(*tab) + 256 * sizeof(tab->slot[0]));
	tab->n = p[0];
	used = (p[1] & 0x7f) % (MAX_USED + 1);
	no_table = p[1] & 0x80;
	for (unsigned i = 0; i < used && tab->n; i++) {
		const uint8_t *r = take(&data, &size, 6);
		uint64_t len = 0;

		if (!r)
			break;
		memcpy(&len, r + 1, 5); /* up to 1 TiB: more than a client may map */
		views[i] = (struct region_view){
			.va = (uint8_t *)(uintptr_t)((i + 1) * VA_STRIDE),
			.len = len,
			.iova = (i + 1) * VA_STRIDE + IOVA_OFFSET,
		};
		tab->slot[r[0] % tab->n] = &views[i];
	}
	memcpy(&d, data, size < sizeof(d) ? size : sizeof(d));

	memset(&x, 0xa5, sizeof(x));
	before = x;
	ret = validate_desc(&d, no_table ? NULL : tab, &x);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if ((ret == 0) != model(&d, no_table ? NULL : tab))
		abort();
	if (ret == 0)
		check_accepted(&d, tab, &x);
	else if (memcmp(&x, &before, sizeof(x)))
		abort(); /* the output is untouched on failure */
	return 0;
}
