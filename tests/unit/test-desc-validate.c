/* SPDX-License-Identifier: MIT */
/*
 * validate_desc() is all that stands between a client's ring and an engine
 * that writes wherever it is told: every field of a descriptor is hostile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "validate.h"

#define LEN_A	4096u
#define LEN_B	8192u
#define IOVA_A	0x100000000ull
#define IOVA_B	0x7f0000000000ull
#define NO_SLOT 1 /* an id inside the table whose slot is free */
#define ID_A	0
#define ID_B	2
#define N_SLOTS 3

static uint8_t mem_a[LEN_A], mem_b[LEN_B];
static const struct region_view reg_a = {mem_a, LEN_A, IOVA_A};
static const struct region_view reg_b = {mem_b, LEN_B, IOVA_B};
static struct region_table *tab;

static struct dmad_proto_desc copy(uint16_t src, uint64_t src_off, uint16_t dst, uint64_t dst_off,
				   uint32_t len)
{
	return (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
					.src_region = src,
					.src_off = src_off,
					.dst_region = dst,
					.dst_off = dst_off,
					.len = len};
}

static struct dmad_proto_desc fill(uint16_t dst, uint64_t dst_off, uint64_t pattern, uint32_t len)
{
	return (struct dmad_proto_desc){.op = DMAD_PROTO_OP_FILL,
					.src_off = pattern,
					.dst_region = dst,
					.dst_off = dst_off,
					.len = len};
}

/* A rejected descriptor gets -EINVAL and leaves the output alone. */
static void rejects_in(const struct region_table *t, struct dmad_proto_desc d, const char *what)
{
	struct xfer x, before;
	int r;

	memset(&x, 0xa5, sizeof(x));
	before = x;
	r = validate_desc(&d, t, &x);
	ok(r == -EINVAL && !memcmp(&x, &before, sizeof(x)), "rejects %s (ret %d)", what, r);
}

static void rejects(struct dmad_proto_desc d, const char *what)
{
	rejects_in(tab, d, what);
}

static int accepts(struct dmad_proto_desc d, struct xfer *x, const char *what)
{
	int r = validate_desc(&d, tab, x);

	ok(r == 0, "accepts %s (ret %d)", what, r);
	return r;
}

static void check_ranges(void)
{
	struct xfer x;

	rejects(copy(ID_A, 0, ID_B, UINT64_MAX - 1, 16),
		"dst offset near 2^64 (off+len overflows)");
	rejects(copy(ID_A, UINT64_MAX - 1, ID_B, 0, 16),
		"src offset near 2^64 (off+len overflows)");
	rejects(copy(ID_A, 0, ID_B, UINT64_MAX - 15, 16), "dst off+len wrapping to exactly 0");
	rejects(copy(ID_A, 0, ID_B, 0, UINT32_MAX), "len 4 GiB-1 in a small region");
	rejects(copy(ID_A, 0, ID_B, LEN_B, 1), "dst offset at the region end");
	rejects(copy(ID_A, LEN_A, ID_B, 0, 1), "src offset at the region end");
	rejects(copy(ID_A, 0, ID_B, LEN_B - 100, 101), "dst one byte past the region end");
	rejects(copy(ID_A, LEN_A - 100, ID_B, 0, 101), "src one byte past the region end");
	rejects(copy(ID_A, 0, ID_B, 0, LEN_B + 1), "len one byte longer than the whole region");
	rejects(fill(ID_B, LEN_B - 7, 0, 8), "fill one byte past the region end");

	if (!accepts(copy(ID_A, LEN_A - 100, ID_B, LEN_B - 100, 100), &x,
		     "copy ending exactly at both region ends"))
		ok(x.src == IOVA_A + LEN_A - 100 && x.dst == IOVA_B + LEN_B - 100 &&
			   x.src_va == mem_a + LEN_A - 100 && x.dst_va == mem_b + LEN_B - 100,
		   "exact fit resolves to the right iova and va");
	accepts(copy(ID_A, 0, ID_B, 0, LEN_A), &x, "copy of a whole region");
	accepts(fill(ID_B, 0, 0, LEN_B), &x, "fill of a whole region");
}

static void check_regions(void)
{
	rejects(copy(NO_SLOT, 0, ID_B, 0, 16), "src in a free region slot");
	rejects(copy(ID_A, 0, NO_SLOT, 0, 16), "dst in a free region slot");
	rejects(copy(N_SLOTS, 0, ID_B, 0, 16), "src region id one past the table");
	rejects(copy(ID_A, 0, N_SLOTS, 0, 16), "dst region id one past the table");
	rejects(copy(UINT16_MAX, 0, ID_B, 0, 16), "src region id 65535");
	rejects(fill(UINT16_MAX, 0, 0, 16), "fill into region id 65535");
}

static void check_overlap(void)
{
	struct xfer x;

	rejects(copy(ID_B, 0, ID_B, 0, 64), "src and dst the same range");
	rejects(copy(ID_B, 0, ID_B, 63, 64), "dst overlapping the src tail by one byte");
	rejects(copy(ID_B, 63, ID_B, 0, 64), "src overlapping the dst tail by one byte");
	rejects(copy(ID_B, 10, ID_B, 0, 100), "src inside dst");
	rejects(copy(ID_B, 0, ID_B, 10, 50), "dst inside src");
	accepts(copy(ID_B, 0, ID_B, 64, 64), &x, "dst right after src in one region");
	accepts(copy(ID_B, 64, ID_B, 0, 64), &x, "src right after dst in one region");
	accepts(copy(ID_A, 0, ID_B, 0, 64), &x, "same offsets in different regions");
}

static void check_fields(void)
{
	struct dmad_proto_desc d;
	unsigned int bad_op = 0;
	struct xfer x;

	rejects(copy(ID_A, 0, ID_B, 0, 0), "zero-length copy");
	rejects(fill(ID_B, 0, 0, 0), "zero-length fill");

	for (unsigned int op = 0; op < 256; op++) {
		if (op == DMAD_PROTO_OP_COPY || op == DMAD_PROTO_OP_FILL)
			continue;
		d = copy(ID_A, 0, ID_B, 0, 16);
		d.op = (uint8_t)op;
		if (validate_desc(&d, tab, &x) != -EINVAL && bad_op++ < 5)
			tap_diag("op %u accepted", op);
	}
	ok(bad_op == 0, "rejects every unknown op, 0 and 3..255 (%u accepted)", bad_op);

	for (unsigned int bit = 3; bit < 8; bit++) {
		char what[32];

		d = copy(ID_A, 0, ID_B, 0, 16);
		d.flags = (uint8_t)(1u << bit);
		snprintf(what, sizeof(what), "unknown flag bit %u", bit);
		rejects(d, what);
	}
	d = copy(ID_A, 0, ID_B, 0, 16);
	d.rsvd = 1;
	rejects(d, "rsvd != 0");
	d = fill(ID_B, 0, 0, 16);
	d.src_region = ID_B;
	rejects(d, "fill with src_region != 0 (a live region)");
	d = fill(ID_B, 0, 0, 16);
	d.src_region = NO_SLOT;
	rejects(d, "fill with a src_region that is a free slot");

	d = copy(ID_A, 0, ID_B, 0, 16);
	d.flags = DMAD_PROTO_DF_FENCE | DMAD_PROTO_DF_LLC | DMAD_PROTO_DF_NO_STRIPE;
	if (!accepts(d, &x, "copy with FENCE|LLC|NO_STRIPE"))
		ok(x.flags == (DMAD_PROTO_DF_FENCE | DMAD_PROTO_DF_LLC | DMAD_PROTO_DF_NO_STRIPE),
		   "flags carried to the xfer");
}

static void check_xfer(void)
{
	struct xfer x;

	memset(&x, 0xa5, sizeof(x));
	if (!accepts(copy(ID_A, 123, ID_B, 4000, 777), &x, "an ordinary copy"))
		ok(x.op == DMAD_PROTO_OP_COPY && x.len == 777 && x.flags == 0 &&
			   x.src == IOVA_A + 123 && x.dst == IOVA_B + 4000 &&
			   x.src_va == mem_a + 123 && x.dst_va == mem_b + 4000,
		   "copy xfer: op, len, src/dst iova and va from the regions");

	memset(&x, 0xa5, sizeof(x));
	if (!accepts(fill(ID_A, 17, UINT64_MAX, 99), &x, "fill whose pattern is UINT64_MAX"))
		ok(x.op == DMAD_PROTO_OP_FILL && x.len == 99 && x.pattern == UINT64_MAX &&
			   x.dst == IOVA_A + 17 && x.dst_va == mem_a + 17,
		   "fill xfer: pattern from src_off, dst iova and va");

	rejects_in(NULL, copy(ID_A, 0, ID_B, 0, 16), "a copy against a NULL region table");
}

int main(void)
{
	tab = calloc(1, sizeof(*tab) + N_SLOTS * sizeof(tab->slot[0]));
	if (!tab)
		tap_bail("out of memory");
	tab->n = N_SLOTS;
	tab->slot[ID_A] = &reg_a;
	tab->slot[ID_B] = &reg_b;

	check_ranges();
	check_regions();
	check_overlap();
	check_fields();
	check_xfer();
	free(tab);
	return tap_done();
}
