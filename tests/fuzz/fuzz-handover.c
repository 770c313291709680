/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the handover state a new dmad reads at start
 * (handover_state.c, with its settings, totals and flows part,
 * handover_ext.c). The input is the state itself; the process holds one
 * real fd of each kind at fixed numbers (FD_BASE + kind), so that inputs
 * can reach the checks of each fd's kind as well as the parse. A state
 * accepted must name only records and fds inside it: checked again here,
 * independently, so that a lax check shows up as a disagreement.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif

#include "dmad_ring.h"
#include "handover_state.h"

#define FD_BASE 100 /* FD_BASE + enum handover_fd_kind: make-seeds.py knows it */

static void place(int fd, int at)
{
	if (fd < 0 || dup2(fd, at) < 0)
		abort();
	close(fd);
}

static int memfd(const char *name, off_t size, int seals)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, size) < 0 || fcntl(fd, F_ADD_SEALS, seals) < 0)
		abort();
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	int sp[2], l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), xsk;

	(void)argc, (void)argv;
	/* Autobind in the abstract namespace: a listening socket with no file. */
	if (l < 0 || bind(l, &sa, sizeof(sa_family_t)) < 0 || listen(l, 1) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	place(l, FD_BASE + HANDOVER_FD_LISTEN);
	place(sp[0], FD_BASE + HANDOVER_FD_CLIENT);
	place(memfd("region", 4096, F_SEAL_SHRINK), FD_BASE + HANDOVER_FD_REGION);
	place(memfd("dmad-ring",
		    dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES),
		    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
	      FD_BASE + HANDOVER_FD_RING);
	place(eventfd(0, EFD_CLOEXEC), FD_BASE + HANDOVER_FD_DOORBELL);
	place(memfd("dmad-rx", 4096, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
	      FD_BASE + HANDOVER_FD_RX_AREA);
	place(eventfd(0, EFD_CLOEXEC), FD_BASE + HANDOVER_FD_RX_EVENT);
	place(memfd("dmad-umem", 4096, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
	      FD_BASE + HANDOVER_FD_UMEM);
	/* Where the kernel lets us: an AF_XDP socket needs CAP_NET_RAW. No
	 * bpf_link or map: entries of those kinds reach their refusal. */
	xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (xsk >= 0)
		place(xsk, FD_BASE + HANDOVER_FD_XSK);
	return 0;
}

static void recheck_ext(const struct handover_view *v)
{
	const struct handover_ext_view *x = &v->ext;
	uint32_t nfds = v->h->nfds;

	for (uint32_t i = 0; i < x->e->nrxifs; i++)
		if (x->rxifs[i].link >= nfds || x->rxifs[i].flows_map >= nfds ||
		    x->rxifs[i].xsks_map >= nfds || x->rxifs[i].owner_map >= nfds ||
		    !memchr(x->rxifs[i].name, '\0', sizeof(x->rxifs[i].name)))
			abort();
	for (uint32_t i = 0; i < x->e->nrxsocks; i++)
		if (x->rxsocks[i].iface >= x->e->nrxifs ||
		    x->rxsocks[i].queue >= DMAD_RX_MAX_QUEUES || x->rxsocks[i].xsk >= nfds ||
		    x->rxsocks[i].umem >= nfds || x->rxsocks[i].xsk == x->rxsocks[i].umem)
			abort();
	for (uint32_t i = 0; i < x->e->nrxflows; i++) {
		const struct handover_rxflow *f = &x->rxflows[i];

		if (f->client >= v->h->nclients || f->sock >= x->e->nrxsocks || f->area >= nfds ||
		    f->event >= nfds || f->area == f->event || !f->slot_count ||
		    (f->slot_count & (f->slot_count - 1)) || f->slot_size > DMAD_RX_SLOT_MAX)
			abort();
	}
	if (x->e->nuids > HANDOVER_UIDS_MAX || x->e->nreleased > DMAD_PROTO_RELEASED_MAX ||
	    x->e->ngone > DMAD_PROTO_GONE_MAX)
		abort();
}

static void recheck(const struct handover_view *v)
{
	const struct handover_hdr *h = v->h;

	if (h->listen_fd >= h->nfds)
		abort();
	for (uint32_t i = 0; i < h->nclients; i++)
		if (v->clients[i].sock >= h->nfds || !v->clients[i].id)
			abort();
	for (uint32_t i = 0; i < h->nregions; i++)
		if (v->regions[i].client >= h->nclients || v->regions[i].fd >= h->nfds ||
		    v->regions[i].id > HANDOVER_MAX_REGION_ID)
			abort();
	for (uint32_t i = 0; i < h->nchans; i++)
		if (v->chans[i].client >= h->nclients || v->chans[i].ring >= h->nfds ||
		    v->chans[i].doorbell >= h->nfds || v->chans[i].ring == v->chans[i].doorbell)
			abort();
	for (uint32_t i = 0; i < h->ndevices; i++)
		if (!memchr(v->devices[i].name, '\0', sizeof(v->devices[i].name)) ||
		    v->devices[i].copybreak > HANDOVER_MAX_COPYBREAK)
			abort();
	for (uint32_t i = 0; i < h->nfds; i++)
		if (v->fds[i].fd <= 2)
			abort();
	recheck_ext(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handover_view v;
	const char *why = NULL;
	uint32_t at;
	void *buf;

	/* The state is read into malloc'ed memory; so is the input here. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (handover_state_parse(buf, size, &v, &why) == 0) {
		recheck(&v);
		handover_state_check_fds(&v, &why, &at);
	} else if (!why) {
		abort(); /* a refusal always says why */
	}
	free(buf);
	return 0;
}
