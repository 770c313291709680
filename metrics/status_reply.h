/* SPDX-License-Identifier: MIT */
/*
 * A STATUS reply read once, for every reader: dmactl's tables and JSON, the
 * OpenMetrics text and DPDK telemetry. The reply grows at its end with each
 * protocol minor; a part is taken only when it is there whole, so a reader
 * of an older dmad sees it absent rather than misread.
 */
#ifndef DMAD_STATUS_REPLY_H
#define DMAD_STATUS_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "dmad_proto.h"

struct status_reply {
	const struct dmad_proto_status *sum;
	const struct dmad_proto_dev_info *dev; /* sum->ndev of them */
	const struct dmad_proto_client_info *client;
	const struct dmad_proto_chan_info *chan;
	int log_level;			      /* 0..7; -1 before protocol 1.2 */
	const struct dmad_proto_quota *quota; /* NULL before protocol 1.2 */
	uint32_t nquota;
	bool has_totals; /* protocol 1.3 on: totals and released records */
	struct dmad_proto_totals totals;
	const struct dmad_proto_released *released;
	uint32_t nreleased;
	bool has_client_totals; /* protocol 1.7 on: client sums and gone clients */
	const struct dmad_proto_client_sum *client_sum; /* sum->nclient, as client[] */
	const struct dmad_proto_gone_client *gone;
	uint32_t ngone;
};

/*
 * status_reply_parse() - locate the parts of the STATUS body @body of @len
 * bytes (8-byte aligned), checking every count against @len first. Returns
 * 0 with *ret pointing into @body, or -EBADMSG when even the records the
 * header counts are not there.
 */
int status_reply_parse(const void *body, uint32_t len, struct status_reply *ret);

/* A device state's name (enum dmad_proto_dev_state), "UNKNOWN" for another number. */
const char *status_state_name(uint32_t state);

/* A limit's kind (enum dmad_proto_quota_kind), "unknown" for another number. */
const char *status_quota_name(uint32_t kind);

#endif /* DMAD_STATUS_REPLY_H */
