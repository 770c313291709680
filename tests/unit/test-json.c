/* SPDX-License-Identifier: MIT */
/*
 * dmactl's JSON, read by a real parser (jansson, through jsonread.h):
 * whatever bytes a client puts in its name, the writer's output is one
 * valid document, and what a parser reads back is the name with only its
 * invalid UTF-8 replaced. And the reader itself: surrogate pairs decode to
 * their code point, a lone surrogate or trailing text is refused. And
 * --json=pretty: the same document, indented, empty arrays kept short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonread.h"
#include "tap.h"

/* @s (@len bytes) through the writer as {"name": s}; the text, malloc'ed. */
static char *write_name(const char *s, size_t len)
{
	char *text = NULL;
	size_t size;
	FILE *f = open_memstream(&text, &size);
	struct json j = JSON_INIT(f, false);

	json_object_begin(&j, NULL);
	json_stringn(&j, "name", s, len);
	json_object_end(&j);
	fclose(f);
	return text;
}

/* Writing @in and parsing it back gives @want. */
static void round_trip(const char *what, const char *in, size_t len, const char *want)
{
	char *text = write_name(in, len);
	struct jv *v = jv_parse(text);
	const char *got = jv_str(jv_get(v, "name"), NULL);

	ok(got && !strcmp(got, want), "%s: parsed back as written (%.*s)", what,
	   (int)strcspn(text, "\n"), text);
	jv_free(v);
	free(text);
}

static void reader(void)
{
	struct jv *v = jv_parse("{\"s\":\"\\ud83d\\ude00 \\u00e9\"}");

	/* U+1F600 is F0 9F 98 80 in UTF-8, not two 3-byte halves. */
	ok(v && !strcmp(jv_str(jv_get(v, "s"), ""), "\xf0\x9f\x98\x80 \xc3\xa9"),
	   "a surrogate pair decodes to its one code point");
	jv_free(v);
	ok(!jv_parse("\"\\ud83d\""), "a lone high surrogate is refused");
	ok(!jv_parse("\"\\ude00\\ud83d\""), "a low surrogate before a high one is refused");
	ok(!jv_parse("{\"a\":1} x"), "text after the document is refused");
	ok(!jv_parse("{\"a\":1}{\"a\":2}"), "a second document is refused");
	ok(!jv_parse("{\"a\":1,\"a\":2}"), "a key twice is refused");
	ok(!jv_parse("[1,]"), "a trailing comma is refused");
	ok(!jv_parse("\"a\x01\""), "a raw control character in a string is refused");
	v = jv_parse(" [18446744073709551615, true, null] ");
	ok(v && v->n == 3 && jv_num(jv_at(v, 0), 0) == 18446744073709551615.0 && jv_at(v, 1)->b &&
		   jv_at(v, 2)->type == JV_NULL,
	   "a u64 counter at its maximum, a bool, a null");
	jv_free(v);
}

/* One document with what dmactl writes: nesting, an empty array, each type. */
static char *write_doc(bool pretty)
{
	char *text = NULL;
	size_t size;
	FILE *f = open_memstream(&text, &size);
	struct json j = JSON_INIT(f, pretty);

	json_object_begin(&j, NULL);
	json_array_begin(&j, "devices");
	json_object_begin(&j, NULL);
	json_string(&j, "name", "dma_skeleton0");
	json_u64(&j, "ops", 42);
	json_array_begin(&j, "caps");
	json_string(&j, NULL, "copy");
	json_array_end(&j);
	json_object_end(&j);
	json_array_end(&j);
	json_array_begin(&j, "clients");
	json_array_end(&j);
	json_null(&j, "device");
	json_bool(&j, "truncated", false);
	json_i64(&j, "pid", -1);
	json_object_end(&j);
	fclose(f);
	return text;
}

static bool same(const struct jv *a, const struct jv *b)
{
	if (a->type != b->type || a->b != b->b || a->num != b->num || a->n != b->n ||
	    (a->str && strcmp(a->str, b->str)))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if ((a->keys && strcmp(a->keys[i], b->keys[i])) ||
		    !same(&a->items[i], &b->items[i]))
			return false;
	return true;
}

static void pretty(void)
{
	static const char want[] = "{\n"
				   "  \"devices\": [\n"
				   "    {\n"
				   "      \"name\": \"dma_skeleton0\",\n"
				   "      \"ops\": 42,\n"
				   "      \"caps\": [\n"
				   "        \"copy\"\n"
				   "      ]\n"
				   "    }\n"
				   "  ],\n"
				   "  \"clients\": [],\n"
				   "  \"device\": null,\n"
				   "  \"truncated\": false,\n"
				   "  \"pid\": -1\n"
				   "}\n";
	char *text = write_doc(true), *line = write_doc(false);
	struct jv *a = jv_parse(text), *b = jv_parse(line);

	ok(!strcmp(text, want), "--json=pretty: indented two spaces a level, [] kept short");
	if (strcmp(text, want))
		tap_diag("got:\n%s", text);
	ok(strchr(line, '\n') == line + strlen(line) - 1, "--json: one line (%.*s)",
	   (int)strcspn(line, "\n"), line);
	ok(a && b && same(a, b) && jv_num(jv_get(a, "pid"), 0) == -1,
	   "both parse, to the same document");
	jv_free(a);
	jv_free(b);
	free(text);
	free(line);
}

int main(void)
{
	char all[256];

	reader();
	pretty();

	round_trip("plain ASCII", "dmac-copy", 9, "dmac-copy");
	round_trip("quotes and backslashes", "a\"b\\c", 5, "a\"b\\c");
	round_trip("control characters and DEL", "a\n\t\x1b[31m\x7f", 9, "a\n\t\x1b[31m\x7f");
	round_trip("4-byte UTF-8", "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
	round_trip("a name cut inside a UTF-8 sequence", "ab\xe2\x82", 4,
		   "ab\xef\xbf\xbd\xef\xbf\xbd");
	round_trip("an encoded surrogate (invalid UTF-8)", "\xed\xa0\x80", 3,
		   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	round_trip("an overlong '/'", "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	round_trip("stops at a NUL within the field", "ab\0cd", 5, "ab");

	/* Every byte value but NUL: valid JSON whatever a client's name holds. */
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	{
		char *text = write_name(all, 255);
		struct jv *v = jv_parse(text);
		const char *got = jv_str(jv_get(v, "name"), NULL);

		ok(got && !strncmp(got, all, 127) && strlen(got) == 127 + 128 * 3,
		   "bytes 1..255: ASCII as is, each byte 0x80..0xff one U+FFFD");
		jv_free(v);
		free(text);
	}
	return tap_done();
}
