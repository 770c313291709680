/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "format.h"

#define COLS_MAX 16
#define GAP	 2 /* spaces between columns */

void table_print(FILE *f, const struct table_col *cols, unsigned ncol, size_t nrow,
		 table_row_fn row, const void *ctx, bool header)
{
	char cell[COLS_MAX][CELL_MAX];
	size_t width[COLS_MAX], i;
	unsigned c;

	assert(ncol <= COLS_MAX);
	for (c = 0; c < ncol; c++)
		width[c] = header ? strlen(cols[c].name) : 0;
	for (i = 0; i < nrow; i++) {
		row(ctx, i, cell);
		for (c = 0; c < ncol; c++)
			if (strlen(cell[c]) > width[c])
				width[c] = strlen(cell[c]);
	}

	for (i = header ? 0 : 1; i <= nrow; i++) {
		if (i == 0)
			for (c = 0; c < ncol; c++)
				snprintf(cell[c], CELL_MAX, "%s", cols[c].name);
		else
			row(ctx, i - 1, cell);
		for (c = 0; c < ncol; c++) {
			/* No trailing blanks after a left-aligned last column. */
			int w = c + 1 == ncol && cols[c].align == ALIGN_LEFT ? 0 : (int)width[c];

			fprintf(f, "%*s%*s", c ? GAP : 0, "", cols[c].align == ALIGN_RIGHT ? w : -w,
				cell[c]);
		}
		fputc('\n', f);
	}
}

void fmt_u64(char cell[CELL_MAX], uint64_t v)
{
	snprintf(cell, CELL_MAX, "%" PRIu64, v);
}

void fmt_bytes(char cell[CELL_MAX], uint64_t v)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v / 1024;
	unsigned u = 0;

	if (v < 1024) {
		snprintf(cell, CELL_MAX, "%" PRIu64 " B", v);
		return;
	}
	/* Switch units where "%.1f" would round up to 1024.0. */
	while (d >= 1023.95 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		d /= 1024;
		u++;
	}
	snprintf(cell, CELL_MAX, "%.1f %s", d, unit[u]);
}

void fmt_rate(char cell[CELL_MAX], uint64_t bytes_per_s)
{
	fmt_bytes(cell, bytes_per_s);
	strncat(cell, "/s", CELL_MAX - strlen(cell) - 1);
}

void fmt_duration(char cell[CELL_MAX], uint64_t us)
{
	if (us < 1000)
		snprintf(cell, CELL_MAX, "%" PRIu64 " us", us);
	/* Switch to seconds where "%.1f ms" would round up to 1000.0 ms. */
	else if (us < 999950)
		snprintf(cell, CELL_MAX, "%.1f ms", (double)us / 1000);
	else
		snprintf(cell, CELL_MAX, "%.2f s", (double)us / 1000000);
}

void fmt_name(char cell[CELL_MAX], const char *name, size_t size)
{
	size_t n = strnlen(name, size), i;

	if (n >= CELL_MAX)
		n = CELL_MAX - 1;
	for (i = 0; i < n; i++)
		cell[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	cell[n] = '\0';
}
