/* SPDX-License-Identifier: MIT */
/*
 * jansson parses (strictly: one document, no duplicate keys, surrogate
 * pairs and their errors as RFC 8259 has them); this file only copies its
 * tree into struct jv, the small plain-data view the tests read.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "jsonread.h"

static bool convert(json_t *in, struct jv *v);

/* @n members of an array or object; keys only for objects. */
static bool alloc_items(struct jv *v, size_t n)
{
	v->items = calloc(n ? n : 1, sizeof(*v->items));
	if (v->type == JV_OBJ)
		v->keys = calloc(n ? n : 1, sizeof(*v->keys));
	return v->items && (v->type != JV_OBJ || v->keys);
}

static bool convert_object(json_t *in, struct jv *v)
{
	const char *key;
	json_t *val;

	v->type = JV_OBJ;
	if (!alloc_items(v, json_object_size(in)))
		return false;
	/* In document order: jansson keeps objects in insertion order. */
	json_object_foreach(in, key, val)
	{
		v->keys[v->n] = strdup(key);
		if (!v->keys[v->n])
			return false;
		if (!convert(val, &v->items[v->n++]))
			return false;
	}
	return true;
}

static bool convert_array(json_t *in, struct jv *v)
{
	size_t i;
	json_t *val;

	v->type = JV_ARR;
	if (!alloc_items(v, json_array_size(in)))
		return false;
	json_array_foreach(in, i, val)
	{
		v->n = i + 1;
		if (!convert(val, &v->items[i]))
			return false;
	}
	return true;
}

static bool convert(json_t *in, struct jv *v)
{
	switch (json_typeof(in)) {
	case JSON_OBJECT:
		return convert_object(in, v);
	case JSON_ARRAY:
		return convert_array(in, v);
	case JSON_STRING:
		v->type = JV_STR;
		v->str = strndup(json_string_value(in), json_string_length(in));
		return v->str != NULL;
	case JSON_INTEGER:
	case JSON_REAL:
		v->type = JV_NUM;
		v->num = json_number_value(in);
		return true;
	case JSON_TRUE:
	case JSON_FALSE:
		v->type = JV_BOOL;
		v->b = json_is_true(in);
		return true;
	case JSON_NULL:
		v->type = JV_NULL;
		return true;
	}
	return false;
}

struct jv *jv_parse(const char *text)
{
	/* Numbers as doubles, as struct jv has them: a u64 counter past
	 * INT64_MAX would otherwise fail the parse. \u0000 is refused:
	 * strings here are C strings. */
	const size_t flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL;
	json_error_t err;
	json_t *root = json_loads(text, flags, &err);
	struct jv *v;

	if (!root)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (v && !convert(root, v)) {
		jv_free(v);
		v = NULL;
	}
	json_decref(root);
	return v;
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
