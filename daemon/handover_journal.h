/* SPDX-License-Identifier: MIT */
/*
 * The session journal's layout (handover_live.h keeps it): struct
 * handover_live_hdr at 0, and the states it points at, each followed by
 * its names (struct handover_live_name, one per entry of the state's fd
 * table: the name the fd is stored under), then (version 2) its clients'
 * last answers (struct handover_reply, handover_replies.h). Of the two
 * slots, sel says
 * which is whole; a state is written in the other slot's space, then sel
 * flips with one store, so a dmad killed while writing leaves the last
 * whole state in place. The next dmad trusts none of it.
 */
#ifndef DMAD_HANDOVER_JOURNAL_H
#define DMAD_HANDOVER_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#define HANDOVER_LIVE_MAGIC   0x564c4d44u /* "DMLV" */
#define HANDOVER_LIVE_VERSION 2u	  /* 2: the last answers after the names */
#define HANDOVER_LIVE_PREFIX  "dmad-live-"
/* Where states start: the header has its own page. */
#define HANDOVER_LIVE_DATA 4096u

struct handover_live_slot {
	uint64_t off;	   /* >= HANDOVER_LIVE_DATA, 8-aligned */
	uint64_t len;	   /* of the state: 0 none yet; else <= HANDOVER_MAX_LEN, 8-aligned */
	uint64_t nnames;   /* names after the state: its fd table's entries */
	uint64_t seq;	   /* journal writes so far, across dmads: the newest journal wins */
	uint64_t nreplies; /* struct handover_reply records after the names */
};

struct handover_live_name {
	char name[48]; /* terminated */
};

struct handover_live_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t sel; /* 0 or 1: the whole slot */
	uint32_t rsvd;
	struct handover_live_slot slot[2];
};

_Static_assert(sizeof(struct handover_live_hdr) == 96, "journal header");
_Static_assert(sizeof(struct handover_live_name) == 48, "journal name");

/* handover_live_ours() - a name of this scheme ("dmad-live-E-F", "dmad-live-E-state")? */
bool handover_live_ours(const char *name);

/* handover_live_is_journal() - "dmad-live-E-state"? */
bool handover_live_is_journal(const char *name);

/*
 * handover_live_parse() - check a journal's header @h (a copy: untrusted)
 * against its file's length @file_len, and find its whole state, names and
 * answers inside it: *@ret_slot. Returns 0, -ENOENT (no state written yet), or -EINVAL with
 * *@ret_why.
 */
int handover_live_parse(const struct handover_live_hdr *h, uint64_t file_len,
			struct handover_live_slot *ret_slot, const char **ret_why);

#endif /* DMAD_HANDOVER_JOURNAL_H */
