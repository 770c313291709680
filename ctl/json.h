/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer just big enough for dmactl: compact output, one
 * document per line (--json, --json=short), or indented by two spaces per
 * level (--json=pretty); commas and line breaks placed by the writer so
 * callers cannot get them wrong. @key is NULL for array elements and the
 * top-level value.
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	unsigned depth;
	bool comma;  /* the next value at this level needs a ',' first */
	bool pretty; /* one value per line, indented */
};

#define JSON_INIT(file, indent) ((struct json){.f = (file), .pretty = (indent)})

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

/* At most @len bytes of @s, or up to its NUL; invalid UTF-8 becomes U+FFFD. */
void json_stringn(struct json *j, const char *key, const char *s, size_t len);
void json_string(struct json *j, const char *key, const char *s);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

#endif /* CTL_JSON_H */
