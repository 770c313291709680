/* SPDX-License-Identifier: MIT */
/*
 * `dmactl status [DEV]` and `dmactl clients`: one STATUS request, shown as
 * tables or as JSON. The reply is checked against its own counts before any
 * record is read, so a daemon bug shows up as a clear error, not a read
 * past the end. `status DEV` shows the same, cut down to DEV, its channels
 * and their clients.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"
#include "status_reply.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* RTE_DMA_CAPA_* bit numbers from DPDK 22.11's rte_dmadev.h: dmactl does not link DPDK. */
static const struct {
	unsigned bit;
	const char *name;
} capa_words[] = {
	{32, "copy"},
	{33, "copy_sg"},
	{34, "fill"},
	{4, "sva"},
};

/* What is shown: the reply's records, or copies of those about one device. */
struct status {
	const struct dmad_proto_status *sum;
	const struct dmad_proto_dev_info *dev;
	const struct dmad_proto_client_info *client;
	const struct dmad_proto_chan_info *chan;
	const struct dmad_proto_quota *quota; /* NULL from a dmad of minor 0 */
	uint32_t nquota;
	uint32_t ndev, nclient, nchan;
	uint64_t ops, bytes;
	int log_level; /* dmad's, or -1 from a dmad before protocol 1.2 */
	void *copies;  /* status DEV: the records above, to free */
	/* From protocol 1.3: every engine's counters since start, and the
	 * released devices (NULL, 0 before). */
	bool has_totals;
	struct dmad_proto_totals totals;
	const struct dmad_proto_released *released;
	uint32_t nreleased;
	/* From protocol 1.7: each client's totals (the whole reply's, found by
	 * id), and the gone clients (NULL, 0 before). */
	const struct dmad_proto_client_sum *client_sum;
	uint32_t nclient_sum;
	const struct dmad_proto_gone_client *gone;
	uint32_t ngone;
};

static int fetch(struct dmactl *o, struct ctl_conn **ret_conn, struct status *ret)
{
	struct status_reply sr;
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r;

	r = dmactl_request(o, DMAD_PROTO_STATUS, NULL, 0, DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;

	if (status_reply_parse(rep.body, rep.len, &sr) < 0) {
		fprintf(stderr, "dmactl: bad status reply from dmad at %s (%u bytes)\n", o->socket,
			rep.len);
		ctl_close(c);
		return DMACTL_EXIT_FAILED;
	}
	*ret = (struct status){
		.sum = sr.sum,
		.dev = sr.dev,
		.client = sr.client,
		.chan = sr.chan,
		.quota = sr.quota,
		.nquota = sr.nquota,
		.ndev = sr.sum->ndev,
		.nclient = sr.sum->nclient,
		.nchan = sr.sum->nchan,
		.ops = sr.sum->ops,
		.bytes = sr.sum->bytes,
		.log_level = sr.log_level,
		.has_totals = sr.has_totals,
		.totals = sr.totals,
		.released = sr.released,
		.nreleased = sr.nreleased,
	};
	if (sr.has_client_totals) {
		ret->client_sum = sr.client_sum;
		ret->nclient_sum = sr.sum->nclient;
		ret->gone = sr.gone;
		ret->ngone = sr.ngone;
	}
	*ret_conn = c;
	return DMACTL_EXIT_OK;
}

static bool same_name(const char *field, size_t size, const char *name)
{
	return strlen(name) < size && !strncmp(field, name, size);
}

/* Cut @s down to the record of the released device @name. Returns 0 or -ENODEV. */
static int only_released(struct status *s, const char *name)
{
	for (uint32_t i = 0; i < s->nreleased; i++) {
		const struct dmad_proto_released *r = &s->released[i];

		if (!same_name(r->name, sizeof(r->name), name))
			continue;
		/* No live records: empty arrays, which the printers walk by pointer. */
		*s = (struct status){
			.sum = s->sum,
			.dev = s->dev,
			.client = s->client,
			.chan = s->chan,
			.ops = r->ops,
			.bytes = r->bytes,
			.log_level = s->log_level,
			.released = r,
			.nreleased = 1,
		};
		return 0;
	}
	return -ENODEV;
}

/* Cut @s down to the device @name, its channels and their clients, or to
 * its record if it was released. Returns 0, -ENODEV (no such device), -ENOMEM. */
static int only_device(struct status *s, const char *name)
{
	const struct dmad_proto_dev_info *d = NULL;
	struct dmad_proto_client_info *client;
	struct dmad_proto_chan_info *chan;
	struct dmad_proto_dev_info *dev;
	uint32_t i, k, nchan = 0, nclient = 0;

	for (i = 0; i < s->ndev && !d; i++)
		if (same_name(s->dev[i].name, sizeof(s->dev[i].name), name))
			d = &s->dev[i];
	if (!d)
		return only_released(s, name);
	/* One block for the three arrays; each record's size keeps the next aligned. */
	dev = malloc(sizeof(*dev) + s->nchan * sizeof(*chan) + s->nclient * sizeof(*client));
	if (!dev)
		return -ENOMEM;
	chan = (void *)(dev + 1);
	client = (void *)(chan + s->nchan);
	*dev = *d;
	for (i = 0; i < s->nchan; i++)
		if (!strncmp(s->chan[i].device, d->name, sizeof(d->name)))
			chan[nchan++] = s->chan[i];
	for (i = 0; i < s->nclient; i++) {
		for (k = 0; k < nchan && chan[k].client_id != s->client[i].client_id; k++)
			;
		if (k < nchan)
			client[nclient++] = s->client[i];
	}
	*s = (struct status){
		.sum = s->sum,
		.dev = dev,
		.client = client,
		.chan = chan,
		.ndev = 1,
		.nclient = nclient,
		.nchan = nchan,
		.ops = d->ops,
		.bytes = d->bytes,
		.log_level = s->log_level,
		.copies = dev,
		.client_sum = s->client_sum,
		.nclient_sum = s->nclient_sum,
	};
	return 0;
}

static void warn_lists(const struct status *s)
{
	if (s->sum->flags & DMAD_PROTO_LIST_TRUNCATED)
		fprintf(stderr, "dmactl: warning: dmad left records out of its reply; "
				"the lists are incomplete\n");
	/* Not an error: a client sees every device but only its own session. */
	if (s->sum->flags & DMAD_PROTO_LIST_OWN_ONLY)
		fprintf(stderr, "dmactl: note: other clients are shown to admins only "
				"(" DMACTL_ADMIN_WHO ")\n");
}

static void json_flags(struct json *j, const struct status *s)
{
	json_bool(j, "truncated", s->sum->flags & DMAD_PROTO_LIST_TRUNCATED);
	json_bool(j, "own_only", s->sum->flags & DMAD_PROTO_LIST_OWN_ONLY);
}

static void fmt_caps(char cell[CELL_MAX], uint64_t capa)
{
	size_t i, n = 0;

	cell[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(capa_words); i++)
		if (capa & (UINT64_C(1) << capa_words[i].bit))
			n += snprintf(cell + n, CELL_MAX - n, "%s%s", n ? "," : "",
				      capa_words[i].name);
	if (!n)
		snprintf(cell, CELL_MAX, "-");
}

static void dev_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_dev_info *d = (const struct dmad_proto_dev_info *)ctx + i;

	fmt_name(cell[0], d->name, sizeof(d->name));
	fmt_name(cell[1], d->driver, sizeof(d->driver));
	snprintf(cell[2], CELL_MAX, "%s", status_state_name(d->state));
	fmt_caps(cell[3], d->capa);
	fmt_u64(cell[4], d->vchans);
	fmt_u64(cell[5], d->channels);
	fmt_u64(cell[6], d->ops);
	fmt_bytes(cell[7], d->bytes);
	fmt_u64(cell[8], d->errors);
	fmt_bytes(cell[9], d->copybreak);
	fmt_rate(cell[10], d->load);
}

static void fmt_when(char cell[CELL_MAX], uint64_t when_us)
{
	time_t t = (time_t)(when_us / 1000000u);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(cell, CELL_MAX, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(cell, CELL_MAX, "-");
}

static void released_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_released *r = (const struct dmad_proto_released *)ctx + i;

	fmt_name(cell[0], r->name, sizeof(r->name));
	fmt_name(cell[1], r->driver, sizeof(r->driver));
	snprintf(cell[2], CELL_MAX, "%s", status_state_name(r->state));
	fmt_when(cell[3], r->when_us);
	fmt_u64(cell[4], r->ops);
	fmt_bytes(cell[5], r->bytes);
	fmt_u64(cell[6], r->errors);
	fmt_name(cell[7], r->reason, sizeof(r->reason));
}

/* The totals of client @id, or NULL from a dmad before protocol 1.7. */
static const struct dmad_proto_client_sum *client_sum(const struct status *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->nclient_sum; i++)
		if (s->client_sum[i].client_id == id)
			return &s->client_sum[i];
	return NULL;
}

static void client_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct status *s = ctx;
	const struct dmad_proto_client_info *c = &s->client[i];
	const struct dmad_proto_client_sum *t = client_sum(s, c->client_id);

	fmt_u64(cell[0], c->client_id);
	snprintf(cell[1], CELL_MAX, "%" PRId32, c->pid);
	fmt_u64(cell[2], c->uid);
	fmt_name(cell[3], c->name, sizeof(c->name));
	fmt_u64(cell[4], c->channels);
	fmt_u64(cell[5], c->regions);
	fmt_bytes(cell[6], c->bytes_mapped);
	if (t) {
		fmt_u64(cell[7], t->ops);
		fmt_bytes(cell[8], t->bytes);
		fmt_u64(cell[9], t->errors);
	} else {
		for (int k = 7; k < 10; k++)
			snprintf(cell[k], CELL_MAX, "-");
	}
}

static void gone_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_gone_client *g = (const struct dmad_proto_gone_client *)ctx + i;

	fmt_u64(cell[0], g->client_id);
	snprintf(cell[1], CELL_MAX, "%" PRId32, g->pid);
	fmt_u64(cell[2], g->uid);
	fmt_name(cell[3], g->name, sizeof(g->name));
	fmt_when(cell[4], g->when_us);
	fmt_u64(cell[5], g->ops);
	fmt_bytes(cell[6], g->bytes);
	fmt_u64(cell[7], g->errors);
}

static void chan_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_chan_info *ch = (const struct dmad_proto_chan_info *)ctx + i;

	fmt_u64(cell[0], ch->client_id);
	fmt_u64(cell[1], ch->chan_id);
	/* Both copy with the CPU, in different processes: "" in the client's own
	 * library (no engine would take it), "cpu" in the daemon's CPU engine. */
	if (!ch->device[0])
		snprintf(cell[2], CELL_MAX, "cpu (client)");
	else if (!strncmp(ch->device, "cpu", sizeof(ch->device)))
		snprintf(cell[2], CELL_MAX, "cpu (daemon)");
	else
		fmt_name(cell[2], ch->device, sizeof(ch->device));
	fmt_u64(cell[3], ch->ops);
	fmt_bytes(cell[4], ch->bytes);
	fmt_u64(cell[5], ch->errors);
	fmt_bytes(cell[6], ch->copybreak);
	if (ch->node < 0)
		snprintf(cell[7], CELL_MAX, "-");
	else
		fmt_u64(cell[7], (uint64_t)ch->node);
}

static void quota_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_quota *q = (const struct dmad_proto_quota *)ctx + i;

	snprintf(cell[0], CELL_MAX, "%s", status_quota_name(q->kind));
	if (q->uid == DMAD_PROTO_QUOTA_ALL)
		snprintf(cell[1], CELL_MAX, "all");
	else
		snprintf(cell[1], CELL_MAX, "uid %" PRIu32, q->uid);
	if (q->kind == DMAD_PROTO_QUOTA_BYTES) {
		fmt_bytes(cell[2], q->used);
		fmt_bytes(cell[3], q->limit);
	} else {
		fmt_u64(cell[2], q->used);
		fmt_u64(cell[3], q->limit);
	}
	if (q->limit == DMAD_PROTO_QUOTA_NONE)
		snprintf(cell[3], CELL_MAX, "-");
}

static void print_quotas(const struct status *s, bool no_legend)
{
	static const struct table_col cols[] = {
		{"LIMIT", ALIGN_LEFT},
		{"FOR", ALIGN_LEFT},
		{"USED", ALIGN_RIGHT},
		{"MAX", ALIGN_RIGHT},
	};

	if (s->nquota)
		table_print(stdout, cols, ARRAY_SIZE(cols), s->nquota, quota_row, s->quota,
			    !no_legend);
}

static void print_devices(const struct status *s, bool no_legend)
{
	static const struct table_col cols[] = {
		{"DEVICE", ALIGN_LEFT},	    {"DRIVER", ALIGN_LEFT},  {"STATE", ALIGN_LEFT},
		{"CAPS", ALIGN_LEFT},	    {"VCHANS", ALIGN_RIGHT}, {"CHANNELS", ALIGN_RIGHT},
		{"OPS", ALIGN_RIGHT},	    {"BYTES", ALIGN_RIGHT},  {"ERRORS", ALIGN_RIGHT},
		{"COPYBREAK", ALIGN_RIGHT}, {"LOAD", ALIGN_RIGHT},
	};

	if (!s->ndev && !no_legend)
		printf("no devices: channels copy with the CPU\n");
	else
		table_print(stdout, cols, ARRAY_SIZE(cols), s->ndev, dev_row, s->dev, !no_legend);
}

/* After the live devices, those released, until dmactl reset-failed. */
static void print_released(const struct status *s, bool no_legend)
{
	static const struct table_col cols[] = {
		{"RELEASED", ALIGN_LEFT}, {"DRIVER", ALIGN_LEFT}, {"STATE", ALIGN_LEFT},
		{"SINCE", ALIGN_LEFT},	  {"OPS", ALIGN_RIGHT},	  {"BYTES", ALIGN_RIGHT},
		{"ERRORS", ALIGN_RIGHT},  {"REASON", ALIGN_LEFT},
	};

	if (!s->nreleased)
		return;
	putchar('\n');
	table_print(stdout, cols, ARRAY_SIZE(cols), s->nreleased, released_row, s->released,
		    !no_legend);
}

static void print_clients(const struct status *s, bool no_legend)
{
	static const struct table_col cols[] = {
		{"CLIENT", ALIGN_RIGHT}, {"PID", ALIGN_RIGHT},	    {"UID", ALIGN_RIGHT},
		{"NAME", ALIGN_LEFT},	 {"CHANNELS", ALIGN_RIGHT}, {"REGIONS", ALIGN_RIGHT},
		{"MAPPED", ALIGN_RIGHT}, {"OPS", ALIGN_RIGHT},	    {"BYTES", ALIGN_RIGHT},
		{"ERRORS", ALIGN_RIGHT},
	};

	if (!s->nclient && !no_legend)
		printf("no clients\n");
	else
		table_print(stdout, cols, ARRAY_SIZE(cols), s->nclient, client_row, s, !no_legend);
}

/* After the live clients, those gone, until dmactl reset-failed. */
static void print_gone(const struct status *s, bool no_legend)
{
	static const struct table_col cols[] = {
		{"GONE CLIENTS", ALIGN_RIGHT}, {"PID", ALIGN_RIGHT},	{"UID", ALIGN_RIGHT},
		{"NAME", ALIGN_LEFT},	       {"SINCE", ALIGN_LEFT},	{"OPS", ALIGN_RIGHT},
		{"BYTES", ALIGN_RIGHT},	       {"ERRORS", ALIGN_RIGHT},
	};

	if (!s->ngone)
		return;
	putchar('\n');
	table_print(stdout, cols, ARRAY_SIZE(cols), s->ngone, gone_row, s->gone, !no_legend);
}

static void print_channels(const struct status *s, bool no_legend)
{
	static const struct table_col cols[] = {
		{"CLIENT", ALIGN_RIGHT},    {"CHAN", ALIGN_RIGHT},  {"DEVICE", ALIGN_LEFT},
		{"OPS", ALIGN_RIGHT},	    {"BYTES", ALIGN_RIGHT}, {"ERRORS", ALIGN_RIGHT},
		{"COPYBREAK", ALIGN_RIGHT}, {"NODE", ALIGN_RIGHT},
	};

	if (!s->nchan && !no_legend)
		printf("no channels\n");
	else
		table_print(stdout, cols, ARRAY_SIZE(cols), s->nchan, chan_row, s->chan,
			    !no_legend);
}

static void json_devices(struct json *j, const struct status *s)
{
	const struct dmad_proto_dev_info *d;
	size_t k;

	json_array_begin(j, "devices");
	for (d = s->dev; d < s->dev + s->ndev; d++) {
		json_object_begin(j, NULL);
		json_stringn(j, "name", d->name, sizeof(d->name));
		json_stringn(j, "driver", d->driver, sizeof(d->driver));
		json_u64(j, "dev_id", d->dev_id);
		json_string(j, "state", status_state_name(d->state));
		json_u64(j, "capa", d->capa);
		json_array_begin(j, "caps");
		for (k = 0; k < ARRAY_SIZE(capa_words); k++)
			if (d->capa & (UINT64_C(1) << capa_words[k].bit))
				json_string(j, NULL, capa_words[k].name);
		json_array_end(j);
		json_u64(j, "vchans", d->vchans);
		json_u64(j, "channels", d->channels);
		json_u64(j, "ops", d->ops);
		json_u64(j, "bytes", d->bytes);
		json_u64(j, "errors", d->errors);
		json_u64(j, "copybreak", d->copybreak);
		json_u64(j, "worker", d->worker);
		json_u64(j, "load", d->load);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_released(struct json *j, const struct status *s)
{
	json_array_begin(j, "released");
	/* By index: a dmad before protocol 1.3 sends none, and released is NULL then. */
	for (uint32_t i = 0; i < s->nreleased; i++) {
		const struct dmad_proto_released *r = &s->released[i];

		json_object_begin(j, NULL);
		json_stringn(j, "name", r->name, sizeof(r->name));
		json_stringn(j, "driver", r->driver, sizeof(r->driver));
		json_string(j, "state", status_state_name(r->state));
		json_stringn(j, "reason", r->reason, sizeof(r->reason));
		json_u64(j, "since_us", r->when_us);
		json_u64(j, "ops", r->ops);
		json_u64(j, "bytes", r->bytes);
		json_u64(j, "errors", r->errors);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_clients(struct json *j, const struct status *s)
{
	const struct dmad_proto_client_sum *t;
	const struct dmad_proto_client_info *c;

	json_array_begin(j, "clients");
	for (c = s->client; c < s->client + s->nclient; c++) {
		json_object_begin(j, NULL);
		json_u64(j, "id", c->client_id);
		json_i64(j, "pid", c->pid);
		json_u64(j, "uid", c->uid);
		json_stringn(j, "name", c->name, sizeof(c->name));
		json_u64(j, "channels", c->channels);
		json_u64(j, "regions", c->regions);
		json_u64(j, "bytes_mapped", c->bytes_mapped);
		/* Absent from a dmad before protocol 1.7. */
		t = client_sum(s, c->client_id);
		if (t) {
			json_u64(j, "ops", t->ops);
			json_u64(j, "bytes", t->bytes);
			json_u64(j, "errors", t->errors);
		}
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_gone(struct json *j, const struct status *s)
{
	json_array_begin(j, "gone_clients");
	/* By index: a dmad before protocol 1.7 sends none, and gone is NULL then. */
	for (uint32_t i = 0; i < s->ngone; i++) {
		const struct dmad_proto_gone_client *g = &s->gone[i];

		json_object_begin(j, NULL);
		json_u64(j, "id", g->client_id);
		json_i64(j, "pid", g->pid);
		json_u64(j, "uid", g->uid);
		json_stringn(j, "name", g->name, sizeof(g->name));
		json_u64(j, "since_us", g->when_us);
		json_u64(j, "ops", g->ops);
		json_u64(j, "bytes", g->bytes);
		json_u64(j, "errors", g->errors);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_quotas(struct json *j, const struct status *s)
{
	json_array_begin(j, "limits");
	/* By index: a dmad of minor 0 sends none, and quota is NULL then. */
	for (uint32_t i = 0; i < s->nquota; i++) {
		const struct dmad_proto_quota *q = &s->quota[i];

		json_object_begin(j, NULL);
		json_string(j, "kind", status_quota_name(q->kind));
		/* null: every client together */
		if (q->uid == DMAD_PROTO_QUOTA_ALL)
			json_null(j, "uid");
		else
			json_u64(j, "uid", q->uid);
		json_u64(j, "used", q->used);
		if (q->limit == DMAD_PROTO_QUOTA_NONE)
			json_null(j, "limit");
		else
			json_u64(j, "limit", q->limit);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_channels(struct json *j, const struct status *s)
{
	const struct dmad_proto_chan_info *ch;

	json_array_begin(j, "channels");
	for (ch = s->chan; ch < s->chan + s->nchan; ch++) {
		json_object_begin(j, NULL);
		json_u64(j, "client", ch->client_id);
		json_u64(j, "chan", ch->chan_id);
		/* null, not a name, when the client's library copies with the CPU;
		 * the daemon's CPU engine is a device named "cpu". */
		if (ch->device[0])
			json_stringn(j, "device", ch->device, sizeof(ch->device));
		else
			json_null(j, "device");
		json_u64(j, "ops", ch->ops);
		json_u64(j, "bytes", ch->bytes);
		json_u64(j, "errors", ch->errors);
		json_u64(j, "copybreak", ch->copybreak);
		/* null: no NUMA node known */
		if (ch->node < 0)
			json_null(j, "node");
		else
			json_u64(j, "node", (uint64_t)ch->node);
		json_object_end(j);
	}
	json_array_end(j);
}

/* Live counts, then what never decreases: ops and bytes since start, and
 * (whole status, dmad 1.3 on) errors and released devices. */
static void print_total(const struct status *s, const struct dmad_proto_totals *t,
			const char *bytes)
{
	printf("\ntotal: devices %u, clients %u, channels %u; ops %" PRIu64 ", bytes %s", s->ndev,
	       s->nclient, s->nchan, s->ops, bytes);
	if (t && s->has_totals)
		printf(", errors %" PRIu64 " since start, %" PRIu32 " device(s) released",
		       t->errors, t->released);
	putchar('\n');
}

int status_main(struct dmactl *o, int argc, char **argv)
{
	struct shares sh;
	struct ctl_conn *c;
	struct status s;
	char bytes[CELL_MAX], *dev;
	unsigned n;
	int r;

	r = dmactl_args_upto(o, argc, argv, NULL, 0, 1, &dev, &n);
	if (r != DMACTL_CONTINUE)
		return r;
	r = fetch(o, &c, &s);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (n && (r = only_device(&s, dev)) < 0) {
		if (r == -ENODEV)
			fprintf(stderr, "dmactl: no device named %s (see dmactl status)\n", dev);
		else
			fprintf(stderr, "dmactl: %s\n", strerror(-r));
		ctl_close(c);
		return DMACTL_EXIT_FAILED;
	}
	r = shares_fetch(o, &sh);
	if (r != DMACTL_EXIT_OK) {
		free(s.copies);
		ctl_close(c);
		return r;
	}

	if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		json_devices(&j, &s);
		json_released(&j, &s);
		json_clients(&j, &s);
		json_gone(&j, &s);
		json_channels(&j, &s);
		json_quotas(&j, &s);
		shares_json(&j, &sh);
		json_object_begin(&j, "totals");
		json_u64(&j, "devices", s.ndev);
		json_u64(&j, "clients", s.nclient);
		json_u64(&j, "channels", s.nchan);
		/* Since dmad started (from protocol 1.3 on: before, live devices only). */
		json_u64(&j, "ops", s.ops);
		json_u64(&j, "bytes", s.bytes);
		if (s.has_totals && !n) {
			json_u64(&j, "errors", s.totals.errors);
			json_u64(&j, "released", s.totals.released);
		}
		json_object_end(&j);
		json_flags(&j, &s);
		if (s.log_level >= 0)
			json_string(&j, "log_level", log_level_name(s.log_level));
		json_object_end(&j);
	} else {
		/* status DEV of a released device: its record alone. */
		if (s.ndev || !s.nreleased)
			print_devices(&s, o->no_legend);
		print_released(&s, o->no_legend);
		putchar('\n');
		print_clients(&s, o->no_legend);
		print_gone(&s, o->no_legend);
		putchar('\n');
		print_channels(&s, o->no_legend);
		if (s.nquota) {
			putchar('\n');
			print_quotas(&s, o->no_legend);
		}
		shares_print(&sh, o->no_legend);
		fmt_bytes(bytes, s.bytes);
		if (!o->no_legend)
			print_total(&s, n ? NULL : &s.totals, bytes);
	}
	warn_lists(&s);
	shares_free(&sh);
	free(s.copies);
	ctl_close(c);
	return DMACTL_EXIT_OK;
}

int clients_main(struct dmactl *o, int argc, char **argv)
{
	struct ctl_conn *c;
	struct status s;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 0, NULL);
	if (r != DMACTL_CONTINUE)
		return r;
	r = fetch(o, &c, &s);
	if (r != DMACTL_EXIT_OK)
		return r;

	if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		json_clients(&j, &s);
		json_flags(&j, &s);
		json_object_end(&j);
	} else {
		print_clients(&s, o->no_legend);
	}
	warn_lists(&s);
	ctl_close(c);
	return DMACTL_EXIT_OK;
}

int status_log_level(struct dmactl *o, int *ret_level)
{
	struct ctl_conn *c;
	struct status s;
	int r;

	r = fetch(o, &c, &s);
	if (r != DMACTL_EXIT_OK)
		return r;
	ctl_close(c);
	if (s.log_level < 0) {
		fprintf(stderr,
			"dmactl: dmad at %s does not say its log level (it speaks protocol 1.1 or "
			"older)\n",
			o->socket);
		return DMACTL_EXIT_FAILED;
	}
	*ret_level = s.log_level;
	return DMACTL_EXIT_OK;
}
