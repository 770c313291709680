/* SPDX-License-Identifier: MIT */
/*
 * Human output: values as short cells, cells as aligned tables. Tables are
 * printed in two passes over a row callback, so they take no allocation and
 * each column is as wide as its widest cell.
 */
#ifndef CTL_FORMAT_H
#define CTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CELL_MAX 112 /* bytes of one cell, NUL included: a released device's reason fits */

enum table_align {
	ALIGN_LEFT,
	ALIGN_RIGHT, /* numbers */
};

struct table_col {
	const char *name;
	enum table_align align;
};

/* Fill cell[0..ncol-1] for row @i of @ctx. */
typedef void (*table_row_fn)(const void *ctx, size_t i, char cell[][CELL_MAX]);

/* @header: the column names first (not with --no-legend). */
void table_print(FILE *f, const struct table_col *cols, unsigned ncol, size_t nrow,
		 table_row_fn row, const void *ctx, bool header);

void fmt_u64(char cell[CELL_MAX], uint64_t v);
/* 512 B, 4.0 KiB, 1.2 GiB. */
void fmt_bytes(char cell[CELL_MAX], uint64_t v);
/* A byte rate: 50.0 MiB/s. */
void fmt_rate(char cell[CELL_MAX], uint64_t bytes_per_s);
/* 850 us, 12.3 ms, 4.21 s. */
void fmt_duration(char cell[CELL_MAX], uint64_t us);
/*
 * A fixed-size name from the wire, which may lack its NUL, made safe for a
 * terminal: a client chooses its own name, and escape sequences in it must
 * not reach the admin's terminal, so anything but printable ASCII shows as '?'.
 */
void fmt_name(char cell[CELL_MAX], const char *name, size_t size);

#endif /* CTL_FORMAT_H */
