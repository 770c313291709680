/* SPDX-License-Identifier: MIT */
/*
 * A request sent again after a crash gets the answer it had, once
 * (protocol minor 11 on). Each client's last answer to a request that
 * changes the sessions is kept (handover_replies.h) and journaled with the
 * state it took effect in, before it is sent. A client still waiting when
 * dmad died sends the same request again, same seq, on RESTARTED: its
 * effect in the journal, the next dmad answers from the record; not, it
 * does it as new. The same holds within one dmad, for a request that
 * waited in the socket while the client sent it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "dmad_rx.h"
#include "client.h"
#include "handover_live.h"
#include "life.h"
#include "log.h"
#include "rx.h"

void client_replay_keep(struct client *c, const struct dmad_proto_hdr *h, int status,
			const struct client_rep *rep)
{
	struct handover_reply *k = &c->last;

	if (h->minor < DMAD_PROTO_MINOR_REPLAY || !handover_reply_kept(h->type) || rep->later ||
	    status == -EAGAIN || status > 0)
		return;
	*k = (struct handover_reply){
		.client_id = c->id,
		.seq = h->seq,
		.type = h->type,
		.status = status,
	};
	if (status == 0 && rep->body && rep->len <= sizeof(k->body)) {
		k->len = (uint16_t)rep->len;
		memcpy(k->body, rep->body, rep->len);
	} else if (status < 0 && rep->error) {
		k->len = sizeof(rep->text);
		memcpy(k->body, &rep->text, sizeof(rep->text));
	}
	/* A body that does not fit (none of these types has one) is not kept:
	 * sent again, the request is done again. */
	if (status == 0 && rep->len > sizeof(k->body))
		k->client_id = 0;
}

bool client_replay(struct client *c, const struct dmad_proto_hdr *h, int *ret)
{
	const struct handover_reply *k = &c->last;
	int fds[DMAD_PROTO_FDS_MAX];
	unsigned nfds = 0;
	int32_t status = k->status;

	if (h->minor < DMAD_PROTO_MINOR_REPLAY || !k->client_id || k->seq != h->seq ||
	    k->type != h->type)
		return false;
	if (status == 0 && k->type == DMAD_PROTO_HELLO && life_fd() >= 0)
		fds[nfds++] = life_fd();
	if (status == 0 && k->type == DMAD_PROTO_CHAN_GET) {
		const struct dmad_proto_chan_get_rep *cr = (const void *)k->body;
		struct chan *ch = client_find_chan(c->chans, cr->chan_id);

		/* Gone only if its ring faulted: the client is on its way out. */
		if (ch) {
			fds[nfds++] = ch->ring_fd;
			fds[nfds++] = ch->doorbell_fd;
		} else {
			status = -EIO;
		}
	}
	if (status == 0 && k->type == DMAD_PROTO_RX_OPEN) {
		const struct dmad_proto_rx_open_rep *orep = (const void *)k->body;

		/* Gone only if its client closed it since: it cannot have. */
		if (rx_flow_fds(c, orep->flow_id, &fds[nfds]) == 0)
			nfds += 2;
		else
			status = -EIO;
	}
	log_debug("client %u: request type %u seq %u sent again: answered as before (%d)", c->id,
		  h->type, h->seq, status);
	if (status != k->status)
		*ret = client_send(c, h->type, h->seq, status, NULL, 0, NULL, 0);
	else
		*ret = client_send(c, h->type, h->seq, status, k->len ? k->body : NULL, k->len, fds,
				   nfds);
	return true;
}

void client_replay_restore(struct client *c)
{
	const struct handover_reply *k = handover_live_reply(c->id);

	if (k)
		c->last = *k;
}

struct handover_reply *client_replay_journal(uint32_t *ret_n)
{
	struct handover_reply *out;
	uint32_t n = 0;

	for (struct client *c = dmad.clients; c; c = c->next)
		n += !c->closing && c->last.client_id;
	out = malloc(((size_t)n + 1) * sizeof(*out));
	if (!out)
		return NULL;
	n = 0;
	for (struct client *c = dmad.clients; c; c = c->next)
		if (!c->closing && c->last.client_id)
			out[n++] = c->last;
	*ret_n = n;
	return out;
}
