/* SPDX-License-Identifier: MIT */
/* The session journal's checks (handover_journal.h): no fd, no state. */
#include <errno.h>
#include <string.h>

#include "handover_journal.h"
#include "handover_replies.h"
#include "handover_state.h"

/* "dmad-live-" then 16 hex digits and '-': what follows, or NULL. */
static const char *after_epoch(const char *name)
{
	const char *s = name + sizeof(HANDOVER_LIVE_PREFIX) - 1;

	if (strncmp(name, HANDOVER_LIVE_PREFIX, sizeof(HANDOVER_LIVE_PREFIX) - 1))
		return NULL;
	for (int i = 0; i < 16; i++, s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return NULL;
	return *s == '-' ? s + 1 : NULL;
}

bool handover_live_is_journal(const char *name)
{
	const char *s = after_epoch(name);

	return s && !strcmp(s, "state");
}

bool handover_live_ours(const char *name)
{
	const char *s = after_epoch(name);

	return s &&
	       (!strcmp(s, "state") || (*s >= '0' && *s <= '9' && !s[strspn(s, "0123456789")]));
}

int handover_live_parse(const struct handover_live_hdr *h, uint64_t file_len,
			struct handover_live_slot *ret_slot, const char **ret_why)
{
	const struct handover_live_slot *s;

	if (file_len < sizeof(*h) || h->magic != HANDOVER_LIVE_MAGIC) {
		*ret_why = "not a session journal";
		return -EINVAL;
	}
	if (h->version != HANDOVER_LIVE_VERSION || h->sel > 1) {
		*ret_why = "a session journal of another version";
		return -EINVAL;
	}
	s = &h->slot[h->sel];
	if (!s->len)
		return -ENOENT;
	if (s->len > HANDOVER_MAX_LEN || s->len % 8 || s->off < HANDOVER_LIVE_DATA || s->off % 8 ||
	    s->nnames > HANDOVER_MAX_LEN / sizeof(struct handover_fd) || s->off > file_len ||
	    s->nreplies > HANDOVER_MAX_LEN / sizeof(struct handover_reply) ||
	    s->len + s->nnames * sizeof(struct handover_live_name) +
			    s->nreplies * sizeof(struct handover_reply) >
		    file_len - s->off) {
		*ret_why = "the journal's state lies outside it";
		return -EINVAL;
	}
	*ret_slot = *s;
	return 0;
}
