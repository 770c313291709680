/* SPDX-License-Identifier: MIT */
/*
 * `dmactl set WHO weight N` and `dmactl set WHO rate BYTES`: how much of an
 * engine a client gets. WHO is a client id (dmactl clients) or uid=N, for
 * every client of that uid: its weight becomes their default (a weight set
 * for a client itself wins), its rate is for all of them together. An
 * engine is shared by weight among the channels that have work (1..10000,
 * 100 by default); a rate limit holds copies in the client's ring, never
 * refusing or reordering them. Admins only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"

/* Decimal digits, then with @suffix an optional binary K, M, G or T; "none" is 0
 * when @suffix. Returns 0 or -EINVAL (-ERANGE when too large). */
static int parse_num(const char *s, bool suffix, uint64_t *ret)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;

	if (suffix && !strcmp(s, "none")) {
		*ret = 0;
		return 0;
	}
	/* strtoull() would take blanks, a sign or 0x. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (suffix && *end && !end[1] && (u = strchr(units, *end))) {
		unsigned shift = 10 * (unsigned)(u - units + 1);

		if (v > UINT64_MAX >> shift)
			return -ERANGE;
		v <<= shift;
	} else if (*end) {
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int explain(const struct dmactl *o, const char *who, const char *what, int status)
{
	switch (status) {
	case -ESRCH:
		fprintf(stderr, "dmactl: no client %s (see dmactl clients)\n", who);
		return DMACTL_EXIT_FAILED;
	case -ERANGE:
		if (!strcmp(what, "weight"))
			fprintf(stderr, "dmactl: a weight is %u to %u\n",
				DMAD_PROTO_SHARE_WEIGHT_MIN, DMAD_PROTO_SHARE_WEIGHT_MAX);
		else
			fprintf(stderr, "dmactl: that rate is more than dmad takes\n");
		return DMACTL_EXIT_FAILED;
	case -ENOSPC:
		fprintf(stderr, "dmactl: dmad keeps settings for no more users\n");
		return DMACTL_EXIT_FAILED;
	default:
		return dmactl_refused(o, status);
	}
}

int set_main(struct dmactl *o, int argc, char **argv)
{
	struct dmad_proto_share_set_req req = {0};
	struct ctl_reply rep;
	struct ctl_conn *c;
	char *args[3];
	uint64_t id;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 3, args);
	if (r != DMACTL_CONTINUE)
		return r;
	if (!strncmp(args[0], "uid=", 4)) {
		req.scope = DMAD_PROTO_SHARE_UID;
		r = parse_num(args[0] + 4, false, &id);
	} else {
		req.scope = DMAD_PROTO_SHARE_CLIENT;
		r = parse_num(args[0], false, &id);
	}
	if (r < 0 || id > UINT32_MAX)
		return dmactl_usage_error(o, "'%s' is neither a client id nor uid=N", args[0]);
	req.id = (uint32_t)id;
	if (!strcmp(args[1], "weight")) {
		req.what = DMAD_PROTO_SHARE_WEIGHT;
		r = parse_num(args[2], false, &req.value);
		if (r < 0 || req.value < DMAD_PROTO_SHARE_WEIGHT_MIN ||
		    req.value > DMAD_PROTO_SHARE_WEIGHT_MAX)
			return dmactl_usage_error(o, "weight '%s': give a number from %u to %u",
						  args[2], DMAD_PROTO_SHARE_WEIGHT_MIN,
						  DMAD_PROTO_SHARE_WEIGHT_MAX);
	} else if (!strcmp(args[1], "rate")) {
		req.what = DMAD_PROTO_SHARE_RATE;
		if (parse_num(args[2], true, &req.value) < 0)
			return dmactl_usage_error(o,
						  "rate '%s': give bytes per second, with K, M, G "
						  "or T (binary), or none",
						  args[2]);
	} else {
		return dmactl_usage_error(o, "unknown setting '%s': weight or rate", args[1]);
	}

	r = dmactl_call(o, DMAD_PROTO_SHARE_SET, &req, sizeof(req), DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status < 0) {
		r = explain(o, args[0], args[1], rep.status);
	} else if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		if (req.scope == DMAD_PROTO_SHARE_UID)
			json_u64(&j, "uid", req.id);
		else
			json_u64(&j, "client", req.id);
		json_u64(&j, args[1], req.value);
		json_object_end(&j);
	} else {
		char cell[CELL_MAX];

		if (req.what == DMAD_PROTO_SHARE_WEIGHT)
			fmt_u64(cell, req.value);
		else if (req.value)
			fmt_rate(cell, req.value);
		else
			snprintf(cell, sizeof(cell), "none");
		printf("%s %" PRIu32 ": %s set to %s\n",
		       req.scope == DMAD_PROTO_SHARE_UID ? "uid" : "client", req.id, args[1], cell);
	}
	ctl_close(c);
	return r;
}
