/* SPDX-License-Identifier: MIT */
/*
 * A client's last answer, kept in the crash journal (handover_journal.h)
 * beside the state it took effect in: a client (protocol minor 11 on)
 * that was still waiting for it when dmad died sends the same request
 * again, with the same seq, once the next dmad says RESTARTED; the next
 * dmad answers it with this record instead of doing it twice
 * (client_replay.c). Only requests that change the sessions are kept: the
 * others do nothing a second run would duplicate. Libc only: the journal's
 * checks and the fuzzer use it.
 */
#ifndef DMAD_HANDOVER_REPLIES_H
#define DMAD_HANDOVER_REPLIES_H

#include <stdbool.h>
#include <stdint.h>

/* The largest reply body kept: a refusal's reason (dmad_proto_error). */
#define HANDOVER_REPLY_BODY_MAX 256u

struct handover_reply {
	uint32_t client_id; /* != 0: its client record's id; 0: no record */
	uint32_t seq;	    /* the request's seq (never 0: events') */
	uint16_t type;	    /* the request's type: one handover_reply_kept() */
	uint16_t len;	    /* body bytes, <= HANDOVER_REPLY_BODY_MAX */
	int32_t status;	    /* 0 or -errno, -4095 at most */
	uint8_t body[HANDOVER_REPLY_BODY_MAX];
};

_Static_assert(sizeof(struct handover_reply) == 272, "handover reply");

/* handover_reply_kept() - does a request of @type change the sessions (its
 * answer is kept, and journaled before it is sent)? */
bool handover_reply_kept(uint16_t type);

/*
 * handover_reply_ok() - may @r (a journal's: untrusted) be sent again as
 * it is? The fds its type carries (the liveness page, a channel's ring
 * and doorbell) are the next dmad's to find, by the body's channel id.
 */
bool handover_reply_ok(const struct handover_reply *r);

#endif /* DMAD_HANDOVER_REPLIES_H */
