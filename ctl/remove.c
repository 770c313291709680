/* SPDX-License-Identifier: MIT */
/*
 * `dmactl remove DEV [--timeout MS]`: dmad answers only once DEV is
 * released, so dmactl waits for the drain's bound plus a margin for moving
 * the channels and for the CPU to redo what a stuck device still held.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"

#define TIMEOUT_MAX_MS 86400000u /* a day: longer is a typo, and MS + MARGIN_MS fits an int */
#define MARGIN_MS      10000
/* dmad's own bound is 5 s unless its --drain-timeout-ms says otherwise. */
#define WAIT_DEFAULT_MS 30000

static int parse_timeout(const char *s, uint32_t *ret_ms)
{
	unsigned long v;
	char *end;

	/* strtoul() would take blanks and a minus sign. */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > TIMEOUT_MAX_MS)
		return -EINVAL;
	*ret_ms = (uint32_t)v;
	return 0;
}

static int explain(const struct dmactl *o, const char *name, int status)
{
	switch (status) {
	case -ENODEV:
		fprintf(stderr, "dmactl: no device named %s (see dmactl status)\n", name);
		return DMACTL_EXIT_FAILED;
	case -EBUSY:
		fprintf(stderr, "dmactl: %s is already being removed\n", name);
		return DMACTL_EXIT_FAILED;
	default:
		return dmactl_refused(o, status);
	}
}

/* The records the reply announces must be there before any is read. */
static int check(const struct dmactl *o, const struct ctl_reply *rep)
{
	const struct dmad_proto_dev_remove_rep *r = rep->body;
	uint64_t need = sizeof(*r);

	if (rep->len >= need)
		need += (uint64_t)r->nmoved * sizeof(struct dmad_proto_moved);
	/* Bytes after the records are allowed: a later minor version may append. */
	if (rep->len < need) {
		fprintf(stderr,
			"dmactl: bad remove reply from dmad at %s: %u bytes, %" PRIu64 " needed\n",
			o->socket, rep->len, need);
		return DMACTL_EXIT_FAILED;
	}
	return DMACTL_EXIT_OK;
}

static bool is_cpu(const struct dmad_proto_moved *m)
{
	return !strncmp(m->to, "cpu", sizeof(m->to));
}

static void print_text(const char *name, const struct dmad_proto_dev_remove_rep *r)
{
	const struct dmad_proto_moved *m = (const void *)(r + 1);
	char drain[CELL_MAX], stall[CELL_MAX], to[CELL_MAX];
	uint32_t i;

	fmt_duration(drain, r->drain_us);
	fmt_duration(stall, r->max_stall_us);
	printf("removed %s in %s; %" PRIu32 " channel(s) moved", name, drain, r->nmoved);
	if (r->nmoved)
		printf("; longest client stall %s", stall);
	putchar('\n');
	for (i = 0; i < r->nmoved; i++, m++) {
		fmt_name(to, m->to, sizeof(m->to));
		fmt_duration(stall, m->stall_us);
		printf("  client %" PRIu32 " channel %" PRIu32 " -> %s (%sstall %s)\n",
		       m->client_id, m->chan_id, to, is_cpu(m) ? "fallback, " : "", stall);
	}
	if (r->timed_out)
		printf("drain timed out: in-flight copies were redone by the CPU\n");
}

static void print_json(const struct dmactl *o, const char *name,
		       const struct dmad_proto_dev_remove_rep *r)
{
	const struct dmad_proto_moved *m = (const void *)(r + 1);
	struct json j = DMACTL_JSON(o);
	uint32_t i;

	json_object_begin(&j, NULL);
	json_string(&j, "removed", name);
	json_u64(&j, "drain_us", r->drain_us);
	json_u64(&j, "max_stall_us", r->max_stall_us);
	json_bool(&j, "timed_out", r->timed_out);
	json_array_begin(&j, "moved");
	for (i = 0; i < r->nmoved; i++, m++) {
		json_object_begin(&j, NULL);
		json_u64(&j, "client", m->client_id);
		json_u64(&j, "channel", m->chan_id);
		json_stringn(&j, "to", m->to, sizeof(m->to));
		json_u64(&j, "stall_us", m->stall_us);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
}

int remove_main(struct dmactl *o, int argc, char **argv)
{
	const char *timeout = NULL;
	const struct dmactl_option opts[] = {{"timeout", &timeout}};
	struct dmad_proto_dev_remove_req req = {0};
	int wait_ms = WAIT_DEFAULT_MS;
	struct ctl_reply rep;
	struct ctl_conn *c;
	char *name;
	int r;

	r = dmactl_args(o, argc, argv, opts, 1, 1, &name);
	if (r != DMACTL_CONTINUE)
		return r;
	if (!*name || strlen(name) >= sizeof(req.name))
		return dmactl_usage_error(o, "'%s' is not a device name (1 to %zu bytes)", name,
					  sizeof(req.name) - 1);
	if (timeout) {
		if (parse_timeout(timeout, &req.timeout_ms) < 0)
			return dmactl_usage_error(o,
						  "--timeout takes milliseconds, 1 to %u; not '%s'",
						  TIMEOUT_MAX_MS, timeout);
		wait_ms = (int)req.timeout_ms + MARGIN_MS;
	}
	memcpy(req.name, name, strlen(name));

	r = dmactl_call(o, DMAD_PROTO_DEV_REMOVE, &req, sizeof(req), wait_ms, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status < 0)
		r = explain(o, name, rep.status);
	else
		r = check(o, &rep);
	if (r == DMACTL_EXIT_OK) {
		if (o->json)
			print_json(o, name, rep.body);
		else
			print_text(name, rep.body);
	}
	ctl_close(c);
	return r;
}
