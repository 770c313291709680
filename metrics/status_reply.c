/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "status_reply.h"

#define LOG_LEVEL_MAX 7 /* debug */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const state_names[] = {
	[DMAD_PROTO_DEV_ONLINE] = "ONLINE",   [DMAD_PROTO_DEV_DRAINING] = "DRAINING",
	[DMAD_PROTO_DEV_OFFLINE] = "OFFLINE", [DMAD_PROTO_DEV_RELEASED] = "RELEASED",
	[DMAD_PROTO_DEV_REMOVED] = "REMOVED", [DMAD_PROTO_DEV_FAILED] = "FAILED",
	[DMAD_PROTO_DEV_GONE] = "GONE",
};

static const char *const quota_names[DMAD_PROTO_QUOTA_KINDS] = {
	[DMAD_PROTO_QUOTA_CLIENTS] = "clients",	  [DMAD_PROTO_QUOTA_REGIONS] = "regions",
	[DMAD_PROTO_QUOTA_CHANNELS] = "channels", [DMAD_PROTO_QUOTA_MAPS] = "maps",
	[DMAD_PROTO_QUOTA_BYTES] = "bytes",	  [DMAD_PROTO_QUOTA_FDS] = "fds",
};

const char *status_state_name(uint32_t state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : "UNKNOWN";
}

const char *status_quota_name(uint32_t kind)
{
	return kind < ARRAY_SIZE(quota_names) ? quota_names[kind] : "unknown";
}

int status_reply_parse(const void *body, uint32_t len, struct status_reply *ret)
{
	const struct dmad_proto_status *sum = body;
	const uint8_t *p = body;
	uint64_t need = sizeof(*sum);

	if (len < need)
		return -EBADMSG;
	need += (uint64_t)sum->ndev * sizeof(*ret->dev) +
		(uint64_t)sum->nclient * sizeof(*ret->client) +
		(uint64_t)sum->nchan * sizeof(*ret->chan);
	if (len < need)
		return -EBADMSG;
	*ret = (struct status_reply){.sum = sum, .dev = (const void *)(sum + 1), .log_level = -1};
	ret->client = (const void *)(ret->dev + sum->ndev);
	ret->chan = (const void *)(ret->client + sum->nclient);

	/* 1.2: the settings, then the limits. */
	if (len < need + sizeof(struct dmad_proto_status_tail))
		return 0;
	{
		struct dmad_proto_status_tail tail;

		/* Right after the records: aligned only as they happen to be. */
		memcpy(&tail, p + need, sizeof(tail));
		if (tail.log_level <= LOG_LEVEL_MAX)
			ret->log_level = (int)tail.log_level;
		need += sizeof(tail);
	}
	if (len < need + sizeof(struct dmad_proto_quotas))
		return 0;
	{
		const struct dmad_proto_quotas *qs = (const void *)(p + need);
		uint64_t size = sizeof(*qs) + (uint64_t)qs->nquota * sizeof(*ret->quota);

		if (len < need + size)
			return 0;
		ret->quota = (const void *)(qs + 1);
		ret->nquota = qs->nquota;
		need += size;
	}

	/* 1.3: the totals and the released devices. */
	if (len < need + sizeof(ret->totals))
		return 0;
	memcpy(&ret->totals, p + need, sizeof(ret->totals));
	need += sizeof(ret->totals);
	if (ret->totals.nreleased > DMAD_PROTO_RELEASED_MAX ||
	    len < need + (uint64_t)ret->totals.nreleased * sizeof(*ret->released))
		return 0;
	ret->has_totals = true;
	ret->released = (const void *)(p + need);
	ret->nreleased = ret->totals.nreleased;
	need += (uint64_t)ret->totals.nreleased * sizeof(*ret->released);

	/* 1.7: each client's totals, then the gone clients. */
	if (len < need + sizeof(struct dmad_proto_client_totals))
		return 0;
	{
		const struct dmad_proto_client_totals *ct = (const void *)(p + need);
		uint64_t size = sizeof(*ct) + (uint64_t)ct->nclient * sizeof(*ret->client_sum) +
				(uint64_t)ct->ngone * sizeof(*ret->gone);

		/* One sum for each client record, no more gone ones than kept. */
		if (ct->nclient != sum->nclient || ct->ngone > DMAD_PROTO_GONE_MAX ||
		    len < need + size)
			return 0;
		ret->has_client_totals = true;
		ret->client_sum = (const void *)(ct + 1);
		ret->gone = (const void *)(ret->client_sum + ct->nclient);
		ret->ngone = ct->ngone;
	}
	return 0;
}
