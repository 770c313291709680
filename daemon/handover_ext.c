/* SPDX-License-Identifier: MIT */
/*
 * The handover state's second part (handover_ext.h): its layout and its
 * checks. As handover_state.c: libc only, nothing read before all passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handover_state.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

/* The records of the part, in order: size of one, and how many. */
#define EXT_RECORDS(n)                                                        \
	{                                                                     \
		{sizeof(struct handover_client_ext), (n)->nclients},          \
			{sizeof(struct handover_uid), (n)->nuids},            \
			{sizeof(struct dmad_proto_released), (n)->nreleased}, \
			{sizeof(struct dmad_proto_gone_client), (n)->ngone},  \
			{sizeof(struct handover_rxif), (n)->nrxifs},          \
			{sizeof(struct handover_rxsock), (n)->nrxsocks},      \
			{sizeof(struct handover_rxflow), (n)->nrxflows},      \
	}

struct span {
	size_t size;
	uint32_t n;
};

size_t handover_ext_size(const struct handover_ext_counts *n)
{
	const struct span s[] = EXT_RECORDS(n);
	size_t len = sizeof(struct handover_ext);

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		len += s[i].size * s[i].n;
	return len;
}

static void view(const void *buf, const struct handover_ext_counts *n, struct handover_ext_view *v)
{
	const struct span s[] = EXT_RECORDS(n);
	const void **at[] = {
		(const void **)&v->clients, (const void **)&v->uids,  (const void **)&v->released,
		(const void **)&v->gone,    (const void **)&v->rxifs, (const void **)&v->rxsocks,
		(const void **)&v->rxflows,
	};
	const uint8_t *p = (const uint8_t *)buf + sizeof(struct handover_ext);

	v->e = buf;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		*at[i] = p;
		p += s[i].size * s[i].n;
	}
}

void handover_ext_init(void *buf, const struct handover_ext_counts *n,
		       struct handover_ext_view *ret_view)
{
	struct handover_ext *e = buf;

	*e = (struct handover_ext){
		.size = sizeof(*e),
		.client_size = sizeof(struct handover_client_ext),
		.uid_size = sizeof(struct handover_uid),
		.released_size = sizeof(struct dmad_proto_released),
		.gone_size = sizeof(struct dmad_proto_gone_client),
		.rxif_size = sizeof(struct handover_rxif),
		.rxsock_size = sizeof(struct handover_rxsock),
		.rxflow_size = sizeof(struct handover_rxflow),
		.nuids = n->nuids,
		.nreleased = n->nreleased,
		.ngone = n->ngone,
		.nrxifs = n->nrxifs,
		.nrxsocks = n->nrxsocks,
		.nrxflows = n->nrxflows,
	};
	view(buf, n, ret_view);
}

static bool claim(const struct handover_view *v, uint8_t *used, uint32_t i, uint32_t kind)
{
	if (i >= v->h->nfds || used[i] || v->fds[i].kind != kind)
		return false;
	used[i] = 1;
	return true;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

static bool weight_ok(uint32_t w)
{
	return w >= DMAD_PROTO_SHARE_WEIGHT_MIN && w <= DMAD_PROTO_SHARE_WEIGHT_MAX;
}

static bool header_ok(const struct handover_ext *e, size_t len, uint32_t nclients,
		      struct handover_ext_counts *n)
{
	if (len < sizeof(*e) || e->size != sizeof(*e) ||
	    e->client_size != sizeof(struct handover_client_ext) ||
	    e->uid_size != sizeof(struct handover_uid) ||
	    e->released_size != sizeof(struct dmad_proto_released) ||
	    e->gone_size != sizeof(struct dmad_proto_gone_client) ||
	    e->rxif_size != sizeof(struct handover_rxif) ||
	    e->rxsock_size != sizeof(struct handover_rxsock) ||
	    e->rxflow_size != sizeof(struct handover_rxflow))
		return false;
	/* Each bounded by what a dmad keeps, so that the sum cannot wrap. */
	if (e->nuids > HANDOVER_UIDS_MAX || e->nreleased > DMAD_PROTO_RELEASED_MAX ||
	    e->ngone > DMAD_PROTO_GONE_MAX || e->nrxifs > len || e->nrxsocks > len ||
	    e->nrxflows > len)
		return false;
	*n = (struct handover_ext_counts){nclients,  e->nuids,	  e->nreleased, e->ngone,
					  e->nrxifs, e->nrxsocks, e->nrxflows};
	return handover_ext_size(n) == len;
}

static const char *settings_wrong(const struct handover_ext_view *x, uint32_t nclients)
{
	for (uint32_t i = 0; i < nclients; i++) {
		const struct handover_client_ext *c = &x->clients[i];

		if ((c->weight && !weight_ok(c->weight)) ||
		    (c->flags & ~HANDOVER_CLIENT_WEIGHT_OWN) || c->rate > HANDOVER_RATE_MAX)
			return "a client's weight, flags or rate out of range";
	}
	for (uint32_t i = 0; i < x->e->nuids; i++) {
		const struct handover_uid *u = &x->uids[i];

		if ((u->weight && !weight_ok(u->weight)) || u->rate > HANDOVER_RATE_MAX)
			return "a uid's weight or rate out of range";
		for (uint32_t j = 0; j < i; j++)
			if (x->uids[j].uid == u->uid)
				return "two settings for one uid";
	}
	for (uint32_t i = 0; i < x->e->nreleased; i++) {
		const struct dmad_proto_released *r = &x->released[i];

		if (!terminated(r->name, sizeof(r->name)) ||
		    !terminated(r->driver, sizeof(r->driver)) ||
		    !terminated(r->reason, sizeof(r->reason)) ||
		    r->state < DMAD_PROTO_DEV_REMOVED || r->state > DMAD_PROTO_DEV_GONE)
			return "a released device's record with a bad name, reason or state";
	}
	for (uint32_t i = 0; i < x->e->ngone; i++)
		if (!terminated(x->gone[i].name, sizeof(x->gone[i].name)))
			return "a gone client's record with a bad name";
	return NULL;
}

static const char *rxifs_wrong(const struct handover_ext_view *x, const struct handover_view *v,
			       uint8_t *used)
{
	for (uint32_t i = 0; i < x->e->nrxifs; i++) {
		const struct handover_rxif *f = &x->rxifs[i];

		if (!f->name[0] || !terminated(f->name, sizeof(f->name)) ||
		    (f->mode != DMAD_RX_XDP_NATIVE && f->mode != DMAD_RX_XDP_GENERIC) || f->rsvd)
			return "an rx interface with a bad name or mode";
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(x->rxifs[j].name, f->name))
				return "two rx interfaces of one name";
		if (!claim(v, used, f->link, HANDOVER_FD_BPF_LINK) ||
		    !claim(v, used, f->flows_map, HANDOVER_FD_BPF_MAP) ||
		    !claim(v, used, f->xsks_map, HANDOVER_FD_BPF_MAP) ||
		    !claim(v, used, f->owner_map, HANDOVER_FD_BPF_MAP))
			return "an rx interface whose link or map entry is missing, shared or of "
			       "another kind";
	}
	for (uint32_t i = 0; i < x->e->nrxsocks; i++) {
		const struct handover_rxsock *s = &x->rxsocks[i];

		if (s->iface >= x->e->nrxifs || s->queue >= DMAD_RX_MAX_QUEUES)
			return "an AF_XDP socket with its interface or queue out of range";
		for (uint32_t j = 0; j < i; j++)
			if (x->rxsocks[j].iface == s->iface && x->rxsocks[j].queue == s->queue)
				return "two AF_XDP sockets on one queue";
		if (!claim(v, used, s->xsk, HANDOVER_FD_XSK) ||
		    !claim(v, used, s->umem, HANDOVER_FD_UMEM))
			return "an AF_XDP socket whose socket or UMEM entry is missing, shared or "
			       "of another kind";
	}
	return NULL;
}

static const char *rxflows_wrong(const struct handover_ext_view *x, const struct handover_view *v,
				 uint8_t *used)
{
	for (uint32_t i = 0; i < x->e->nrxflows; i++) {
		const struct handover_rxflow *f = &x->rxflows[i];

		if (f->client >= v->h->nclients || !f->id || f->id > x->e->next_flow_id ||
		    f->sock >= x->e->nrxsocks || !f->port || f->proto != DMAD_RX_UDP || f->rsvd ||
		    f->rsvd2)
			return "an rx flow with its client, id, socket, port or protocol out of "
			       "range";
		if (f->slot_size < DMAD_RX_SLOT_MIN || f->slot_size > DMAD_RX_SLOT_MAX ||
		    !is_pow2(f->slot_count) || f->slot_count > DMAD_RX_SLOTS_MAX ||
		    (uint64_t)f->slot_count * dmad_rx_stride(f->slot_size) > DMAD_RX_AREA_MAX)
			return "an rx flow with a bad geometry";
		for (uint32_t j = 0; j < i; j++) {
			const struct handover_rxflow *o = &x->rxflows[j];

			if (o->id == f->id ||
			    (o->port == f->port &&
			     x->rxsocks[o->sock].iface == x->rxsocks[f->sock].iface))
				return "two rx flows with one id, or one port on one interface";
		}
		if (!claim(v, used, f->area, HANDOVER_FD_RX_AREA) ||
		    !claim(v, used, f->event, HANDOVER_FD_RX_EVENT))
			return "an rx flow whose area or eventfd entry is missing, shared or of "
			       "another kind";
	}
	return NULL;
}

bool handover_ext_parse(const void *buf, size_t len, const struct handover_view *v, uint8_t *used,
			struct handover_ext_view *ret_view, const char **ret_why)
{
	const struct handover_ext *e = buf;
	struct handover_ext_counts n;
	struct handover_ext_view x;
	const char *why;

	if ((uintptr_t)buf % 8 || len < sizeof(*e) || !header_ok(e, len, v->h->nclients, &n)) {
		*ret_why = "its settings, totals and flows part is short, or its sizes or counts "
			   "are wrong";
		return false;
	}
	view(buf, &n, &x);
	why = settings_wrong(&x, v->h->nclients);
	if (!why)
		why = rxifs_wrong(&x, v, used);
	if (!why)
		why = rxflows_wrong(&x, v, used);
	if (why) {
		*ret_why = why;
		return false;
	}
	*ret_view = x;
	return true;
}

static bool socket_of(int fd, int want_domain)
{
	int domain = 0;
	socklen_t l = sizeof(domain);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) == 0 && domain == want_domain;
}

const char *handover_ext_fd_wrong(int fd, uint32_t kind)
{
	const int fixed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

	switch (kind) {
	case HANDOVER_FD_RX_AREA:
		return handover_fd_link_is(fd, "/memfd:dmad-rx ") && handover_fd_sealed(fd, fixed)
			       ? NULL
			       : "a flow's area is not a sealed dmad-rx memfd";
	case HANDOVER_FD_RX_EVENT:
		return handover_fd_link_is(fd, "anon_inode:[eventfd]")
			       ? NULL
			       : "a flow's event fd is not an eventfd";
	case HANDOVER_FD_XSK:
		return socket_of(fd, AF_XDP) ? NULL : "an AF_XDP socket's fd is not one";
	case HANDOVER_FD_UMEM:
		return handover_fd_link_is(fd, "/memfd:dmad-umem ") && handover_fd_sealed(fd, fixed)
			       ? NULL
			       : "a UMEM's fd is not a sealed dmad-umem memfd";
	case HANDOVER_FD_BPF_LINK:
		return handover_fd_link_is(fd, "anon_inode:bpf_link")
			       ? NULL
			       : "a bpf_link's fd is not one";
	case HANDOVER_FD_BPF_MAP:
		return handover_fd_link_is(fd, "anon_inode:bpf-map") ? NULL
								     : "a BPF map's fd is not one";
	}
	return "an fd of unknown kind";
}
