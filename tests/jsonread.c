/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"

#define MAX_DEPTH 64

struct parser {
	const char *p;
	unsigned int depth;
};

static bool value(struct parser *ps, struct jv *v);

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(ps->p, word, n))
		return false;
	ps->p += n;
	return true;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Code point @u as UTF-8 at @out; returns bytes written. */
static size_t utf8(uint32_t u, char *out)
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xc0 | u >> 6);
		out[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | u >> 12);
	out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
	out[2] = (char)(0x80 | (u & 0x3f));
	return 3;
}

static bool string(struct parser *ps, char **ret)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	const char *p = ps->p + 1, *e;
	char *out, *o;

	if (*ps->p != '"')
		return false;
	/* Escapes only shrink: the raw length bounds the decoded one. */
	out = o = malloc(strlen(p) + 1);
	if (!out)
		return false;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p++;

		if (c < 0x20)
			goto fail;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (*p == 'u') {
			uint32_t u = 0;

			for (int i = 1; i <= 4; i++) {
				int h = hex(p[i]);

				if (h < 0)
					goto fail;
				u = u << 4 | (uint32_t)h;
			}
			o += utf8(u, o);
			p += 5;
		} else if (*p && (e = strchr(esc_in, *p))) {
			*o++ = esc_out[e - esc_in];
			p++;
		} else {
			goto fail;
		}
	}
	*o = '\0';
	ps->p = p + 1;
	*ret = out;
	return true;
fail:
	free(out);
	return false;
}

static bool number(struct parser *ps, struct jv *v)
{
	const char *p = ps->p;
	char *end;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	v->type = JV_NUM;
	v->num = strtod(ps->p, &end);
	ps->p = end;
	return true;
}

/* Arrays and objects: items separated by commas up to @close. */
static bool items(struct parser *ps, struct jv *v, char close)
{
	size_t cap = 0;

	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		if (v->n == cap) {
			cap = cap ? 2 * cap : 8;
			v->items = realloc(v->items, cap * sizeof(*v->items));
			if (v->type == JV_OBJ)
				v->keys = realloc(v->keys, cap * sizeof(*v->keys));
			if (!v->items || (v->type == JV_OBJ && !v->keys))
				return false;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		if (v->type == JV_OBJ) {
			skip_ws(ps);
			if (!string(ps, &v->keys[v->n]))
				return false;
			skip_ws(ps);
			if (*ps->p++ != ':') {
				free(v->keys[v->n]);
				return false;
			}
		}
		v->n++;
		if (!value(ps, &v->items[v->n - 1]))
			return false;
		skip_ws(ps);
		if (*ps->p == close) {
			ps->p++;
			return true;
		}
		if (*ps->p++ != ',')
			return false;
	}
}

static bool value(struct parser *ps, struct jv *v)
{
	bool r;

	skip_ws(ps);
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > MAX_DEPTH)
			return false;
		v->type = *ps->p == '{' ? JV_OBJ : JV_ARR;
		r = items(ps, v, *ps->p == '{' ? '}' : ']');
		ps->depth--;
		return r;
	case '"':
		v->type = JV_STR;
		return string(ps, &v->str);
	case 't':
		v->type = JV_BOOL;
		v->b = true;
		return literal(ps, "true");
	case 'f':
		v->type = JV_BOOL;
		return literal(ps, "false");
	case 'n':
		v->type = JV_NULL;
		return literal(ps, "null");
	default:
		return number(ps, v);
	}
}

static void release(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		release(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

struct jv *jv_parse(const char *text)
{
	struct parser ps = {text, 0};
	struct jv *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (!value(&ps, v)) {
		jv_free(v);
		return NULL;
	}
	skip_ws(&ps);
	if (*ps.p) {
		jv_free(v);
		return NULL;
	}
	return v;
}

void jv_free(struct jv *v)
{
	if (!v)
		return;
	release(v);
	free(v);
}

const struct jv *jv_get(const struct jv *obj, const char *key)
{
	if (!obj || obj->type != JV_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

const struct jv *jv_at(const struct jv *arr, size_t i)
{
	if (!arr || arr->type != JV_ARR || i >= arr->n)
		return NULL;
	return &arr->items[i];
}

const char *jv_str(const struct jv *v, const char *fallback)
{
	return v && v->type == JV_STR ? v->str : fallback;
}

double jv_num(const struct jv *v, double fallback)
{
	return v && v->type == JV_NUM ? v->num : fallback;
}
