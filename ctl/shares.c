/* SPDX-License-Identifier: MIT */
/*
 * The shares part of `dmactl status`: each client's weight and rate limit,
 * the uids with settings of their own, and (protocol 1.9) each client's
 * systemd unit and the units' defaults (SHARES, a request of its own so
 * that the STATUS layout stays as it is). Checked against its own counts
 * before a record is read, and a client's unit index against the units. A dmad older than
 * protocol 1.3 does not know the request: then there is nothing to show.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int shares_fetch(struct dmactl *o, struct shares *ret)
{
	const struct dmad_proto_shares *h;
	struct ctl_reply rep;
	uint64_t need;
	int r;

	*ret = (struct shares){0};
	r = dmactl_call(o, DMAD_PROTO_SHARES, NULL, 0, DMACTL_TIMEOUT_MS, &ret->conn, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status < 0) {
		/* An older dmad: status shows what it has. */
		ctl_close(ret->conn);
		ret->conn = NULL;
		return DMACTL_EXIT_OK;
	}
	h = rep.body;
	need = sizeof(*h);
	if (rep.len >= need)
		need += (uint64_t)h->nclient * sizeof(*ret->client) +
			(uint64_t)h->nuid * sizeof(*ret->uid) +
			(uint64_t)h->nunit * sizeof(*ret->unit);
	if (rep.len < need) {
		fprintf(stderr,
			"dmactl: bad shares reply from dmad at %s: %u bytes, %" PRIu64 " needed\n",
			o->socket, rep.len, need);
		ctl_close(ret->conn);
		ret->conn = NULL;
		return DMACTL_EXIT_FAILED;
	}
	ret->client = (const void *)(h + 1);
	ret->uid = (const void *)(ret->client + h->nclient);
	ret->unit = (const void *)(ret->uid + h->nuid);
	ret->nclient = h->nclient;
	ret->nuid = h->nuid;
	ret->nunit = h->nunit;
	return DMACTL_EXIT_OK;
}

void shares_free(struct shares *s)
{
	if (s->conn)
		ctl_close(s->conn);
}

static void rate_cell(char cell[CELL_MAX], uint64_t rate)
{
	if (rate)
		fmt_rate(cell, rate);
	else
		snprintf(cell, CELL_MAX, "-");
}

/* Client @c's unit name, or NULL: none, or an index past the records. */
static const char *unit_of(const struct shares *s, const struct dmad_proto_share_client *c)
{
	const struct dmad_proto_share_unit *u;

	if (!c->unit || c->unit > s->nunit)
		return NULL;
	u = &s->unit[c->unit - 1];
	return memchr(u->name, '\0', sizeof(u->name)) ? u->name : NULL;
}

static void client_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct shares *s = ctx;
	const struct dmad_proto_share_client *c = &s->client[i];
	const char *unit = unit_of(s, c);

	fmt_u64(cell[0], c->client_id);
	fmt_u64(cell[1], c->uid);
	/* A table cell holds CELL_MAX - 1 bytes of a name; --json all of it. */
	snprintf(cell[2], CELL_MAX, "%.*s", CELL_MAX - 1, unit ? unit : "-");
	fmt_u64(cell[3], c->weight);
	rate_cell(cell[4], c->rate);
}

static void unit_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_share_unit *u = (const struct dmad_proto_share_unit *)ctx + i;

	snprintf(cell[0], CELL_MAX, "%.*s", (int)strnlen(u->name, CELL_MAX - 1), u->name);
	if (u->weight)
		fmt_u64(cell[1], u->weight);
	else
		snprintf(cell[1], CELL_MAX, "-");
	rate_cell(cell[2], u->rate);
}

static void uid_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_share_uid *u = (const struct dmad_proto_share_uid *)ctx + i;

	fmt_u64(cell[0], u->uid);
	if (u->weight)
		fmt_u64(cell[1], u->weight);
	else
		snprintf(cell[1], CELL_MAX, "-");
	rate_cell(cell[2], u->rate);
}

void shares_print(const struct shares *s, bool no_legend)
{
	static const struct table_col ccols[] = {
		{"CLIENT", ALIGN_RIGHT}, {"UID", ALIGN_RIGHT},	{"UNIT", ALIGN_LEFT},
		{"WEIGHT", ALIGN_RIGHT}, {"RATE", ALIGN_RIGHT},
	};
	static const struct table_col ncols[] = {
		{"UNIT", ALIGN_LEFT},
		{"WEIGHT", ALIGN_RIGHT},
		{"RATE", ALIGN_RIGHT},
	};
	static const struct table_col ucols[] = {
		{"USER", ALIGN_RIGHT},
		{"WEIGHT", ALIGN_RIGHT},
		{"RATE", ALIGN_RIGHT},
	};

	if (s->nclient) {
		putchar('\n');
		table_print(stdout, ccols, ARRAY_SIZE(ccols), s->nclient, client_row, s,
			    !no_legend);
	}
	if (s->nuid) {
		putchar('\n');
		table_print(stdout, ucols, ARRAY_SIZE(ucols), s->nuid, uid_row, s->uid, !no_legend);
	}
	if (s->nunit) {
		putchar('\n');
		table_print(stdout, ncols, ARRAY_SIZE(ncols), s->nunit, unit_row, s->unit,
			    !no_legend);
	}
}

void shares_json(struct json *j, const struct shares *s)
{
	json_array_begin(j, "shares");
	for (uint32_t i = 0; i < s->nclient; i++) {
		json_object_begin(j, NULL);
		json_u64(j, "client", s->client[i].client_id);
		json_u64(j, "uid", s->client[i].uid);
		/* null: in no unit, or a dmad before protocol 1.9 */
		if (unit_of(s, &s->client[i]))
			json_string(j, "unit", unit_of(s, &s->client[i]));
		else
			json_null(j, "unit");
		json_u64(j, "weight", s->client[i].weight);
		/* null: no limit of its own */
		if (s->client[i].rate)
			json_u64(j, "rate", s->client[i].rate);
		else
			json_null(j, "rate");
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "user_shares");
	for (uint32_t i = 0; i < s->nuid; i++) {
		json_object_begin(j, NULL);
		json_u64(j, "uid", s->uid[i].uid);
		if (s->uid[i].weight)
			json_u64(j, "weight", s->uid[i].weight);
		else
			json_null(j, "weight");
		if (s->uid[i].rate)
			json_u64(j, "rate", s->uid[i].rate);
		else
			json_null(j, "rate");
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "unit_shares");
	for (uint32_t i = 0; i < s->nunit; i++) {
		const struct dmad_proto_share_unit *u = &s->unit[i];

		json_object_begin(j, NULL);
		json_stringn(j, "unit", u->name, strnlen(u->name, sizeof(u->name)));
		if (u->weight)
			json_u64(j, "weight", u->weight);
		else
			json_null(j, "weight");
		if (u->rate)
			json_u64(j, "rate", u->rate);
		else
			json_null(j, "rate");
		json_object_end(j);
	}
	json_array_end(j);
}
