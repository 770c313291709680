/* SPDX-License-Identifier: MIT */
/*
 * Every descriptor comes from a process the daemon does not trust and goes to
 * an engine that writes wherever it is told: nothing reaches an engine that
 * has not been checked here against the daemon's own record of the regions.
 */
#include <errno.h>

#include "validate.h"

#define KNOWN_FLAGS (DMAD_PROTO_DF_FENCE | DMAD_PROTO_DF_LLC | DMAD_PROTO_DF_NO_STRIPE)

/* Resolve [off, off+len) inside region @id; NULL if any part is outside. */
static const struct region_view *range(const struct region_table *t, uint32_t id, uint64_t off,
				       uint32_t len)
{
	const struct region_view *r;

	if (!t || id >= t->n)
		return NULL;
	r = t->slot[id];
	/* Written so that no sum can overflow: off <= len and len <= rest. */
	if (!r || off > r->len || len > r->len - off)
		return NULL;
	return r;
}

int validate_desc(const struct dmad_proto_desc *d, const struct region_table *t, struct xfer *ret_x)
{
	const struct region_view *src = NULL, *dst;
	struct xfer x = {0};

	if (d->len == 0 || (d->flags & ~KNOWN_FLAGS) || d->rsvd)
		return -EINVAL;
	dst = range(t, d->dst_region, d->dst_off, d->len);
	if (!dst)
		return -EINVAL;

	switch (d->op) {
	case DMAD_PROTO_OP_COPY:
		src = range(t, d->src_region, d->src_off, d->len);
		if (!src)
			return -EINVAL;
		/* Engines leave overlapping copies undefined; so does memcpy. */
		if (src == dst && d->src_off < d->dst_off + d->len &&
		    d->dst_off < d->src_off + d->len)
			return -EINVAL;
		x.src = src->iova + d->src_off;
		x.src_va = src->va + d->src_off;
		break;
	case DMAD_PROTO_OP_FILL:
		if (d->src_region)
			return -EINVAL;
		x.pattern = d->src_off;
		break;
	default:
		return -EINVAL;
	}

	x.op = d->op;
	x.flags = d->flags;
	x.len = d->len;
	x.dst = dst->iova + d->dst_off;
	x.dst_va = dst->va + d->dst_off;
	*ret_x = x;
	return 0;
}
