/* SPDX-License-Identifier: MIT */
/*
 * The shares part of `dmactl status`: each client's weight and rate limit,
 * and the uids with settings of their own (SHARES, a request of its own so
 * that the STATUS layout stays as it is). Checked against its own counts
 * before a record is read. A dmad older than protocol 1.3 does not know
 * the request: then there is nothing to show.
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
			(uint64_t)h->nuid * sizeof(*ret->uid);
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
	ret->nclient = h->nclient;
	ret->nuid = h->nuid;
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

static void client_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_share_client *c = (const struct dmad_proto_share_client *)ctx + i;

	fmt_u64(cell[0], c->client_id);
	fmt_u64(cell[1], c->uid);
	fmt_u64(cell[2], c->weight);
	rate_cell(cell[3], c->rate);
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
		{"CLIENT", ALIGN_RIGHT},
		{"UID", ALIGN_RIGHT},
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
		table_print(stdout, ccols, ARRAY_SIZE(ccols), s->nclient, client_row, s->client,
			    !no_legend);
	}
	if (s->nuid) {
		putchar('\n');
		table_print(stdout, ucols, ARRAY_SIZE(ucols), s->nuid, uid_row, s->uid, !no_legend);
	}
}

void shares_json(struct json *j, const struct shares *s)
{
	json_array_begin(j, "shares");
	for (uint32_t i = 0; i < s->nclient; i++) {
		json_object_begin(j, NULL);
		json_u64(j, "client", s->client[i].client_id);
		json_u64(j, "uid", s->client[i].uid);
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
}
