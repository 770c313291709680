/* SPDX-License-Identifier: MIT */
/* Kept answers (handover_replies.h): which, and the checks on a journal's. */
#include <stddef.h>

#include "dmad_proto.h"
#include "dmad_rx.h"
#include "handover_replies.h"

bool handover_reply_kept(uint16_t type)
{
	switch (type) {
	case DMAD_PROTO_HELLO:
	case DMAD_PROTO_REGION_REG:
	case DMAD_PROTO_REGION_UNREG:
	case DMAD_PROTO_CHAN_GET:
	case DMAD_PROTO_CHAN_PUT:
	case DMAD_PROTO_MONITOR:
	case DMAD_PROTO_RX_OPEN:
	case DMAD_PROTO_RX_CLOSE:
		return true;
	default:
		return false;
	}
}

/* The body a successful answer of @type has: its exact length. */
static size_t ok_len(uint16_t type)
{
	switch (type) {
	case DMAD_PROTO_HELLO:
		return sizeof(struct dmad_proto_hello_rep);
	case DMAD_PROTO_REGION_REG:
		return sizeof(struct dmad_proto_region_reg_rep);
	case DMAD_PROTO_CHAN_GET:
		return sizeof(struct dmad_proto_chan_get_rep);
	case DMAD_PROTO_RX_OPEN:
		return sizeof(struct dmad_proto_rx_open_rep);
	default:
		return 0;
	}
}

bool handover_reply_ok(const struct handover_reply *r)
{
	if (!r->client_id || !r->seq || !handover_reply_kept(r->type))
		return false;
	if (r->status == 0)
		return r->len == ok_len(r->type);
	return r->status < 0 && r->status >= -4095 &&
	       (r->len == 0 || r->len == sizeof(struct dmad_proto_error));
}
