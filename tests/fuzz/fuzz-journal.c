/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the session journal a dmad finds in the fd store after
 * its predecessor crashed (handover_journal.c), header, state, names and
 * last answers together, as the input's bytes are the journal file. An
 * accepted slot must lie inside the file with its names and answers:
 * checked again here, independently; its state then goes through
 * handover_state_parse() as the next dmad does, each name through the
 * name checks, and each answer through handover_reply_ok(): one it
 * accepts must be one dmad can send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmad_proto.h"
#include "handover_journal.h"
#include "handover_replies.h"
#include "handover_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handover_live_hdr h = {0};
	struct handover_live_slot s;
	struct handover_view v;
	const char *why = NULL;
	uint64_t *state;
	int ret;

	memcpy(&h, data, size < sizeof(h) ? size : sizeof(h));
	ret = handover_live_parse(&h, size, &s, &why);
	if (ret == -EINVAL && !why)
		abort(); /* a refusal always says why */
	if (ret < 0)
		return 0;
	if (s.off < HANDOVER_LIVE_DATA || s.off > size || s.len > size - s.off ||
	    s.nnames * sizeof(struct handover_live_name) > size - s.off - s.len || s.len % 8 ||
	    s.nreplies * sizeof(struct handover_reply) >
		    size - s.off - s.len - s.nnames * sizeof(struct handover_live_name))
		abort();
	for (uint64_t i = 0; i < s.nreplies; i++) {
		struct handover_reply r;

		memcpy(&r,
		       data + s.off + s.len + s.nnames * sizeof(struct handover_live_name) +
			       i * sizeof(r),
		       sizeof(r));
		if (handover_reply_ok(&r) &&
		    (r.len > sizeof(r.body) || r.status > 0 || r.status < -4095 || !r.seq ||
		     (r.status < 0 && r.len && r.len != sizeof(struct dmad_proto_error))))
			abort();
	}
	/* The next dmad reads the state into its own 8-aligned buffer. */
	state = malloc(s.len ? s.len : 1);
	if (!state)
		return 0;
	memcpy(state, data + s.off, s.len);
	if (handover_state_parse(state, s.len, &v, &why) == 0 && v.h->nfds == s.nnames)
		for (uint64_t i = 0; i < s.nnames; i++) {
			struct handover_live_name n;

			memcpy(&n, data + s.off + s.len + i * sizeof(n), sizeof(n));
			/* As handover_live_take() does: only a terminated name of ours. */
			if (memchr(n.name, 0, sizeof(n.name)) && handover_live_ours(n.name) &&
			    strncmp(n.name, HANDOVER_LIVE_PREFIX, sizeof(HANDOVER_LIVE_PREFIX) - 1))
				abort();
		}
	free(state);
	return 0;
}
