/* SPDX-License-Identifier: MIT */
/*
 * Strings here come from other processes (client names are chosen by
 * clients), so escaping is complete: whatever the bytes, the output is valid
 * JSON that a strict parser accepts.
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

/* Pretty: a new line, indented to the current depth. */
static void newline(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void begin_value(struct json *j, const char *key)
{
	if (j->comma)
		fputc(',', j->f);
	if (j->depth)
		newline(j);
	if (key)
		fprintf(j->f, j->pretty ? "\"%s\": " : "\"%s\":", key);
	j->comma = true;
}

static void nest(struct json *j, const char *key, char bracket)
{
	begin_value(j, key);
	fputc(bracket, j->f);
	j->depth++;
	j->comma = false;
}

static void unnest(struct json *j, char bracket)
{
	/* comma: this level has a member, so the bracket goes on a line of its
	 * own; an empty one stays [] or {}. */
	bool members = j->comma;

	j->depth--;
	if (members)
		newline(j);
	fputc(bracket, j->f);
	j->comma = true;
	if (j->depth == 0)
		fputc('\n', j->f);
}

void json_object_begin(struct json *j, const char *key)
{
	nest(j, key, '{');
}

void json_object_end(struct json *j)
{
	unnest(j, '}');
}

void json_array_begin(struct json *j, const char *key)
{
	nest(j, key, '[');
}

void json_array_end(struct json *j)
{
	unnest(j, ']');
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	/* 0xc0 and 0xc1 can only start overlong forms; 0xf5+ exceed U+10FFFF. */
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void json_stringn(struct json *j, const char *key, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strnlen(s, len), i = 0, u;

	begin_value(j, key);
	fputc('"', j->f);
	while (i < n) {
		if (p[i] == '"' || p[i] == '\\') {
			fprintf(j->f, "\\%c", p[i++]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(j->f, "\\u%04x", p[i++]);
		} else if (p[i] < 0x80) {
			fputc(p[i++], j->f);
		} else if ((u = utf8_len(p + i, n - i))) {
			fwrite(p + i, 1, u, j->f);
			i += u;
		} else {
			fputs("\\ufffd", j->f);
			i++;
		}
	}
	fputc('"', j->f);
}

void json_string(struct json *j, const char *key, const char *s)
{
	json_stringn(j, key, s, strlen(s));
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	begin_value(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	begin_value(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	begin_value(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	begin_value(j, key);
	fputs("null", j->f);
}
