/* SPDX-License-Identifier: MIT */
/*
 * OpenMetrics text from a STATUS body. A family's samples must be
 * contiguous, so each family is one pass over its records; a counter's
 * family is named without its _total suffix, which its samples carry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "openmetrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# TYPE %s %s\n# HELP %s %s\n", name, type, name, help);
}

/* A label value from the wire: at most @size bytes up to a NUL, printable
 * ASCII only ('?' for the rest), with OpenMetrics' escapes. */
static void label(FILE *f, const char *key, const char *s, size_t size)
{
	fprintf(f, "%s=\"", key);
	for (size_t i = 0; i < size && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\' || ch == '"')
			fputc('\\', f);
		fputc(ch >= 0x20 && ch < 0x7f ? ch : '?', f);
	}
	fputc('"', f);
}

/* The sample's name: a counter's carries _total. */
static void sample(FILE *f, const char *name, bool counter)
{
	fprintf(f, "%s%s", name, counter ? "_total" : "");
}

static void value(FILE *f, uint64_t v)
{
	fprintf(f, " %" PRIu64 "\n", v);
}

/* One number of each record kind, and how it is exposed. */
struct metric {
	const char *name;
	bool counter;
	const char *help;
	uint64_t (*get)(const void *rec);
};

#define GETTER(fn, type, expr)              \
	static uint64_t fn(const void *rec) \
	{                                   \
		const type *r = rec;        \
		return (expr);              \
	}

GETTER(dev_ops, struct dmad_proto_dev_info, r->ops)
GETTER(dev_bytes, struct dmad_proto_dev_info, r->bytes)
GETTER(dev_errors, struct dmad_proto_dev_info, r->errors)
GETTER(dev_channels, struct dmad_proto_dev_info, r->channels)
GETTER(dev_copybreak, struct dmad_proto_dev_info, r->copybreak)
GETTER(client_channels, struct dmad_proto_client_info, r->channels)
GETTER(client_regions, struct dmad_proto_client_info, r->regions)
GETTER(client_mapped, struct dmad_proto_client_info, r->bytes_mapped)
GETTER(chan_ops, struct dmad_proto_chan_info, r->ops)
GETTER(chan_bytes, struct dmad_proto_chan_info, r->bytes)
GETTER(chan_errors, struct dmad_proto_chan_info, r->errors)

static const struct metric dev_metrics[] = {
	{"dmad_device_ops", true, "Copies and fills the device completed.", dev_ops},
	{"dmad_device_bytes", true, "Bytes the device copied or filled.", dev_bytes},
	{"dmad_device_errors", true, "Operations the device failed (redone by the CPU).",
	 dev_errors},
	{"dmad_device_channels", false, "Channels on the device.", dev_channels},
	{"dmad_device_copybreak_bytes", false, "The device's calibrated copybreak.", dev_copybreak},
};

static const struct metric client_metrics[] = {
	{"dmad_client_channels", false, "Channels the client holds.", client_channels},
	{"dmad_client_regions", false, "Regions the client has registered.", client_regions},
	{"dmad_client_mapped_bytes", false, "Bytes of client memory dmad maps for the client.",
	 client_mapped},
};

static const struct metric chan_metrics[] = {
	{"dmad_channel_ops", true, "Operations completed on the channel's ring.", chan_ops},
	{"dmad_channel_bytes", true, "Bytes copied or filled through the channel's ring.",
	 chan_bytes},
	{"dmad_channel_errors", true, "Descriptors of the channel that failed.", chan_errors},
};

static void devices(FILE *f, const struct status_reply *s)
{
	for (size_t m = 0; m < ARRAY_SIZE(dev_metrics); m++) {
		family(f, dev_metrics[m].name, dev_metrics[m].counter ? "counter" : "gauge",
		       dev_metrics[m].help);
		for (uint32_t i = 0; i < s->sum->ndev; i++) {
			sample(f, dev_metrics[m].name, dev_metrics[m].counter);
			fputc('{', f);
			label(f, "device", s->dev[i].name, sizeof(s->dev[i].name));
			fputc('}', f);
			value(f, dev_metrics[m].get(&s->dev[i]));
		}
	}
	family(f, "dmad_device_info", "gauge", "The device's driver and state; always 1.");
	for (uint32_t i = 0; i < s->sum->ndev; i++) {
		fputs("dmad_device_info{", f);
		label(f, "device", s->dev[i].name, sizeof(s->dev[i].name));
		fputc(',', f);
		label(f, "driver", s->dev[i].driver, sizeof(s->dev[i].driver));
		fprintf(f, ",state=\"%s\"}", status_state_name(s->dev[i].state));
		value(f, 1);
	}
}

/* Protocol 1.3 on: what only a daemon-wide count keeps. */
static void totals(FILE *f, const struct status_reply *s)
{
	if (!s->has_totals)
		return;
	family(f, "dmad_errors", "counter",
	       "Operations an engine failed (redone by the CPU), released devices' too.");
	fputs("dmad_errors_total", f);
	value(f, s->totals.errors);
	family(f, "dmad_devices_released", "counter",
	       "Devices released (removed, failed or unplugged) since dmad started.");
	fputs("dmad_devices_released_total", f);
	value(f, s->totals.released);
}

/* Released devices still listed (until dmactl reset-failed): one info sample
 * each. Their counters are in the daemon's totals, not here: a device added
 * again under its name starts its own from 0. */
static void released(FILE *f, const struct status_reply *s)
{
	if (!s->has_totals)
		return;
	family(f, "dmad_released_device_info", "gauge",
	       "A released device still listed, with how it ended; always 1.");
	for (uint32_t i = 0; i < s->nreleased; i++) {
		const struct dmad_proto_released *r = &s->released[i];

		fputs("dmad_released_device_info{", f);
		label(f, "device", r->name, sizeof(r->name));
		fputc(',', f);
		label(f, "driver", r->driver, sizeof(r->driver));
		fprintf(f, ",state=\"%s\",",
			r->state >= DMAD_PROTO_DEV_REMOVED ? status_state_name(r->state)
							   : "UNKNOWN");
		label(f, "reason", r->reason, sizeof(r->reason));
		fputc('}', f);
		value(f, 1);
	}
}

static void clients(FILE *f, const struct status_reply *s)
{
	for (size_t m = 0; m < ARRAY_SIZE(client_metrics); m++) {
		family(f, client_metrics[m].name, "gauge", client_metrics[m].help);
		for (uint32_t i = 0; i < s->sum->nclient; i++) {
			const struct dmad_proto_client_info *c = &s->client[i];

			fprintf(f, "%s{client=\"%" PRIu32 "\",", client_metrics[m].name,
				c->client_id);
			label(f, "name", c->name, sizeof(c->name));
			fputc('}', f);
			value(f, client_metrics[m].get(c));
		}
	}
	/* Protocol 1.7 on: what its channels did, put ones too; by client id
	 * alone, as a counter's labels must not change. */
	if (!s->has_client_totals)
		return;
	family(f, "dmad_client_ops", "counter",
	       "Operations the client's channels completed, channels it put included.");
	for (uint32_t i = 0; i < s->sum->nclient; i++) {
		fprintf(f, "dmad_client_ops_total{client=\"%" PRIu32 "\"}",
			s->client_sum[i].client_id);
		value(f, s->client_sum[i].ops);
	}
	family(f, "dmad_client_bytes", "counter",
	       "Bytes the client's channels copied or filled, channels it put included.");
	for (uint32_t i = 0; i < s->sum->nclient; i++) {
		fprintf(f, "dmad_client_bytes_total{client=\"%" PRIu32 "\"}",
			s->client_sum[i].client_id);
		value(f, s->client_sum[i].bytes);
	}
}

static void channels(FILE *f, const struct status_reply *s)
{
	/* Not by device: a channel moves, and a counter's labels must not. */
	for (size_t m = 0; m < ARRAY_SIZE(chan_metrics); m++) {
		family(f, chan_metrics[m].name, chan_metrics[m].counter ? "counter" : "gauge",
		       chan_metrics[m].help);
		for (uint32_t i = 0; i < s->sum->nchan; i++) {
			sample(f, chan_metrics[m].name, chan_metrics[m].counter);
			fprintf(f, "{client=\"%" PRIu32 "\",chan=\"%" PRIu32 "\"}",
				s->chan[i].client_id, s->chan[i].chan_id);
			value(f, chan_metrics[m].get(&s->chan[i]));
		}
	}
}

static void quota_labels(FILE *f, const struct dmad_proto_quota *q)
{
	fprintf(f, "{kind=\"%s\",", status_quota_name(q->kind));
	if (q->uid == DMAD_PROTO_QUOTA_ALL)
		fputs("uid=\"all\"}", f);
	else
		fprintf(f, "uid=\"%" PRIu32 "\"}", q->uid);
}

static void quotas(FILE *f, const struct status_reply *s)
{
	if (!s->nquota)
		return;
	family(f, "dmad_limit_used", "gauge",
	       "What clients hold against a limit, per uid or in all (uid=\"all\").");
	for (uint32_t i = 0; i < s->nquota; i++) {
		fputs("dmad_limit_used", f);
		quota_labels(f, &s->quota[i]);
		value(f, s->quota[i].used);
	}
	family(f, "dmad_limit_max", "gauge", "The limit; past it requests get EDQUOT.");
	for (uint32_t i = 0; i < s->nquota; i++) {
		if (s->quota[i].limit == DMAD_PROTO_QUOTA_NONE)
			continue;
		fputs("dmad_limit_max", f);
		quota_labels(f, &s->quota[i]);
		value(f, s->quota[i].limit);
	}
}

int om_render(FILE *f, const struct status_reply *s)
{
	family(f, "dmad_ops", "counter",
	       "Operations completed by every engine, dmad's CPU engine included.");
	fputs("dmad_ops_total", f);
	value(f, s->sum->ops);
	family(f, "dmad_bytes", "counter", "Bytes copied or filled by every engine.");
	fputs("dmad_bytes_total", f);
	value(f, s->sum->bytes);
	totals(f, s);
	family(f, "dmad_devices", "gauge", "DMA devices dmad holds.");
	fputs("dmad_devices", f);
	value(f, s->sum->ndev);
	family(f, "dmad_clients", "gauge", "Connected clients listed (all of them for an admin).");
	fputs("dmad_clients", f);
	value(f, s->sum->nclient);
	family(f, "dmad_channels", "gauge", "Client channels listed.");
	fputs("dmad_channels", f);
	value(f, s->sum->nchan);
	family(f, "dmad_status_truncated", "gauge",
	       "1 when dmad left records out of its status: the lists are incomplete.");
	fputs("dmad_status_truncated", f);
	value(f, !!(s->sum->flags & DMAD_PROTO_LIST_TRUNCATED));
	devices(f, s);
	released(f, s);
	clients(f, s);
	channels(f, s);
	quotas(f, s);
	fputs("# EOF\n", f);
	return ferror(f) ? -EIO : 0;
}
