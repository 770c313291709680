/* SPDX-License-Identifier: MIT */
/*
 * Reading dmactl's --json output in tests: jansson (a real, strict parser)
 * checks that the whole text is one valid document, and its tree is handed
 * over as plain data, found by key and index. Tests only: recursion and
 * allocation are of no concern here.
 */
#ifndef TESTS_JSONREAD_H
#define TESTS_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	enum jv_type type;
	bool b;
	double num;
	char *str;	  /* JV_STR, NUL-terminated UTF-8 */
	size_t n;	  /* JV_ARR, JV_OBJ: number of items */
	struct jv *items; /* JV_ARR, JV_OBJ */
	char **keys;	  /* JV_OBJ */
};

/*
 * Parse @text; NULL when it is not exactly one JSON value (whitespace
 * around it allowed), or has an object with a key twice, or a string
 * holding U+0000.
 */
struct jv *jv_parse(const char *text);
void jv_free(struct jv *v);

/* Member @key of an object, item @i of an array; NULL if absent or of another type. */
const struct jv *jv_get(const struct jv *obj, const char *key);
const struct jv *jv_at(const struct jv *arr, size_t i);

/* Typed access with a fallback for absent or mistyped values. */
const char *jv_str(const struct jv *v, const char *fallback);
double jv_num(const struct jv *v, double fallback);

#endif /* TESTS_JSONREAD_H */
