/* SPDX-License-Identifier: MIT */
/* Checking one untrusted ring descriptor against the client's regions. */
#ifndef DMAD_VALIDATE_H
#define DMAD_VALIDATE_H

#include <stdint.h>

#include "dmad_ring.h"

/* What the daemon knows of one registered region, as workers see it. */
struct region_view {
	uint8_t *va;   /* the daemon's own MAP_SHARED mapping */
	uint64_t len;  /* bytes mapped */
	uint64_t iova; /* address engines use for va[0] */
};

/* A client's regions, indexed by region id; NULL slots are free ids. */
struct region_table {
	uint32_t n;
	const struct region_view *slot[];
};

/* A descriptor that passed validation, in engine terms. */
struct xfer {
	uint8_t op;    /* DMAD_PROTO_OP_* */
	uint8_t flags; /* DMAD_PROTO_DF_* */
	uint32_t len;
	uint64_t src;	  /* IOVA; COPY only */
	uint64_t dst;	  /* IOVA */
	uint64_t pattern; /* FILL only */
	uint8_t *src_va;  /* for CPU execution */
	uint8_t *dst_va;
};

/*
 * validate_desc() - turn @d into @ret_x if every field is inside @t.
 * Returns 0, or -EINVAL (unknown op or flag, reserved bits set, zero length,
 * unknown region, range past the region's end or overflowing, source and
 * destination overlapping). @ret_x is untouched on failure.
 */
int validate_desc(const struct dmad_proto_desc *d, const struct region_table *t,
		  struct xfer *ret_x);

#endif /* DMAD_VALIDATE_H */
