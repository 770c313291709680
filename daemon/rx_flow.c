/* SPDX-License-Identifier: MIT */
/*
 * A flow's life on the control thread: its receive area, its channel, and
 * taking it apart once its copies have landed.
 *
 * The flow's DMA channel is an ordinary channel (chan.c) that the flow
 * owns, with a region table of its own that holds exactly the socket's
 * UMEM and the flow's receive area. So the worker validates the rx
 * thread's descriptors against those two and nothing else, the client's
 * own channels can never name the UMEM (where other flows' datagrams are),
 * and a device removal moves the channel like any other: the flow survives
 * it without a branch of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chan.h"
#include "device.h"
#include "handover_live.h"
#include "log.h"
#include "place.h"
#include "region.h"
#include "rx_priv.h"

/* Linux 5.14's, for older uapi headers. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

struct rx_flow *rx_all_flows;
uint32_t rx_flow_last_id;

static uint64_t area_size(uint32_t slot_size, uint32_t slot_count)
{
	return dmad_rx_data_offset(slot_count) + (uint64_t)slot_count * dmad_rx_stride(slot_size);
}

/* Map the area memfd and write its fixed header line (again, after a restart). */
static int area_map(struct rx_flow *f, uint32_t slot_size, uint32_t slot_count)
{
	uint32_t stride = dmad_rx_stride(slot_size);
	uint64_t data = dmad_rx_data_offset(slot_count);
	uint64_t size = area_size(slot_size, slot_count);
	struct dmad_rx_area *a;
	int ret;

	/* The owner's memory as much as a region is: charged to it. */
	ret = region_map(f->area_fd, size, f->owner->acct, &f->area_region);
	if (ret < 0)
		return ret;
	f->area_va = f->area_region->view.va;
	/*
	 * Fault the whole area in now, as the kernel pins a UMEM: a page fault
	 * in the rx thread stalls every flow of its queue, and the first pass
	 * over a fresh area took one every 4 KiB (at 8 KiB datagrams, 60 % of
	 * the rx thread's time, and drops). Best effort: older kernels lack it.
	 */
	(void)madvise(f->area_va, size, MADV_POPULATE_WRITE);
	f->area = a = (struct dmad_rx_area *)f->area_va;
	a->magic = DMAD_RX_MAGIC;
	a->version = DMAD_RX_VERSION;
	a->slot_size = slot_size;
	a->slot_count = slot_count;
	a->slot_stride = stride;
	a->rec_offset = sizeof(*a);
	a->data_offset = data;
	a->size = size;
	f->slot_size = slot_size;
	f->slot_count = slot_count;
	f->slot_mask = slot_count - 1;
	f->stride = stride;
	f->data_offset = data;
	f->pend = calloc(slot_count, sizeof(*f->pend));
	f->hold = calloc(RX_FRAMES, sizeof(*f->hold));
	return f->pend && f->hold ? 0 : -ENOMEM;
}

static int area_create(struct rx_flow *f, uint32_t slot_size, uint32_t slot_count)
{
	f->area_fd = memfd_create("dmad-rx", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (f->area_fd < 0 || ftruncate(f->area_fd, (off_t)area_size(slot_size, slot_count)) < 0 ||
	    fcntl(f->area_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	handover_live_add(f->area_fd, false);
	return area_map(f, slot_size, slot_count);
}

/* The flow's own channel and the region table it checks against; see the top. */
static int chan_setup(struct rx_flow *f)
{
	struct region_table *t = calloc(1, sizeof(*t) + 2 * sizeof(t->slot[0]));
	struct chan_owner o = {
		.regions = &f->regions,
		.acct = f->owner->acct, /* its channel is charged to the flow's client */
		.id = f->owner->id,	/* logs of moves name the flow's client */
	};
	int ret;

	if (!t)
		return -ENOMEM;
	t->n = 2;
	t->slot[RX_REGION_UMEM] = &f->sock->umem_region->view;
	t->slot[RX_REGION_AREA] = &f->area_region->view;
	f->regions = t;

	ret = chan_create(&o, DMAD_PROTO_CAP_COPY, &f->ch);
	if (ret < 0)
		return ret;
	f->ch->id = f->id;
	return chan_attach(f->ch, place_pick(DMAD_PROTO_CAP_COPY, PLACE_NODE_ANY));
}

/* Take @f apart. Its thread no longer sees it, and its channel has drained. */
static void flow_free(struct rx_flow *f)
{
	if (f->ch) {
		/* Killed first: a drain that had detached it will not put it back. */
		chan_kill(f->ch);
		chan_detach(f->ch);
		/* chan_kill() does not wait: a worker may still walk the device's
		 * old channel list, this one in it, until its grace period ends. */
		if (!chan_gone(f->ch))
			rcu_synchronize();
		chan_destroy(f->ch);
	}
	free(f->regions);
	region_unmap(f->area_region);
	handover_live_drop(f->area_fd);
	handover_live_drop(f->efd);
	if (f->area_fd >= 0)
		close(f->area_fd);
	if (f->efd >= 0)
		close(f->efd);
	if (f->fds_charged)
		quota_release(f->owner->acct, quota_fds(2));
	free(f->pend);
	free(f->hold);
	if (f->sock)
		rx_sock_put(f->sock);
	free(f);
}

static void sock_unlink(struct rx_flow *f)
{
	struct rx_flow **pp = &f->sock->flows;

	pthread_mutex_lock(&f->sock->lock);
	while (*pp && *pp != f)
		pp = &(*pp)->snext;
	if (*pp)
		*pp = f->snext;
	pthread_mutex_unlock(&f->sock->lock);
}

int rx_flow_create(struct client *owner, const struct rx_flow_spec *spec, struct rx_flow **ret_flow)
{
	struct rx_iface *ifc;
	struct rx_flow *f;
	int ret;

	ret = rx_iface_get(spec->ifname, &ifc);
	if (ret < 0)
		return ret;
	f = calloc(1, sizeof(*f));
	if (!f) {
		rx_iface_put(ifc);
		return -ENOMEM;
	}
	f->owner = owner;
	f->id = ++rx_flow_last_id;
	/* Its area memfd and eventfd; the area's mapping and the channel are
	 * charged where they are made. */
	f->fds_charged = quota_charge(owner->acct, quota_fds(2)) == 0;
	if (!f->fds_charged) {
		rx_iface_put(ifc);
		free(f);
		return -EDQUOT;
	}
	f->port = spec->port;
	f->proto = spec->proto;
	f->queue = spec->queue;
	f->area_fd = f->efd = -1;
	ret = rx_sock_get(ifc, spec->queue, &f->sock);
	if (ret < 0)
		goto fail;
	ret = area_create(f, spec->slot_size, spec->slot_count);
	if (ret < 0)
		goto fail;
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->efd < 0) {
		ret = -errno;
		goto fail;
	}
	handover_live_add(f->efd, false);
	ret = chan_setup(f);
	if (ret < 0)
		goto fail;
	f->copybreak = spec->copybreak_set ? spec->copybreak : f->ch->copybreak;

	pthread_mutex_lock(&f->sock->lock);
	f->snext = f->sock->flows;
	f->sock->flows = f;
	pthread_mutex_unlock(&f->sock->lock);
	/* Last: from here the XDP program steers the port to the socket. */
	ret = rx_iface_add_flow(f->sock->ifc, f);
	if (ret < 0) {
		sock_unlink(f);
		goto fail;
	}
	f->next = rx_all_flows;
	rx_all_flows = f;
	handover_live_dirty();
	*ret_flow = f;
	return 0;

fail:
	/* rx_sock_get() took the interface's reference, whatever it returned. */
	flow_free(f);
	return ret;
}

/* The area the dmad before a restart made: of the size its geometry gives. */
static int area_adopt(struct rx_flow *f, const struct rx_flow_carried *c)
{
	struct stat st;
	int ret;

	if (fstat(f->area_fd, &st) < 0 ||
	    (uint64_t)st.st_size != area_size(c->slot_size, c->slot_count))
		return -EBADF;
	ret = area_map(f, c->slot_size, c->slot_count);
	if (ret < 0)
		return ret;
	f->tail = f->published = f->shown = c->tail;
	f->seq = c->seq;
	f->st = c->stats;
	f->drops_reported = c->drops_reported;
	/* The client's head is read afresh; the tail is ours. */
	f->cached_head = c->tail - c->slot_count;
	__atomic_store_n(&f->area->tail, c->tail, __ATOMIC_RELEASE);
	return 0;
}

int rx_flow_adopt(struct client *owner, struct rx_sock *sock, const struct rx_flow_carried *c,
		  int area_fd, int efd, struct rx_flow **ret_flow)
{
	struct rx_flow *f = calloc(1, sizeof(*f));
	int ret;

	if (!f) {
		close(area_fd);
		close(efd);
		rx_sock_put(sock);
		return -ENOMEM;
	}
	f->owner = owner;
	f->sock = sock;
	f->area_fd = area_fd;
	f->efd = efd;
	f->id = c->id;
	f->port = c->port;
	f->proto = c->proto;
	f->queue = sock->queue;
	handover_live_add(area_fd, false);
	handover_live_add(efd, false);
	f->fds_charged = quota_charge(owner->acct, quota_fds(2)) == 0;
	ret = f->fds_charged ? area_adopt(f, c) : -EDQUOT;
	if (ret == 0)
		ret = chan_setup(f);
	if (ret < 0) {
		flow_free(f);
		return ret;
	}
	f->copybreak = c->copybreak;
	if (f->id > rx_flow_last_id)
		rx_flow_last_id = f->id;
	pthread_mutex_lock(&sock->lock);
	f->snext = sock->flows;
	sock->flows = f;
	pthread_mutex_unlock(&sock->lock);
	rx_sock_kick(sock);
	/* Its map entry stayed through the restart; made sure of here. */
	ret = rx_iface_keep_flow(sock->ifc, f);
	if (ret < 0) {
		sock_unlink(f);
		flow_free(f);
		return ret;
	}
	f->next = rx_all_flows;
	rx_all_flows = f;
	handover_live_dirty();
	*ret_flow = f;
	return 0;
}

void rx_flow_close(struct rx_flow *f)
{
	uint64_t one = 1;
	ssize_t w;

	if (f->closing)
		return;
	handover_live_dirty();
	rx_iface_del_flow(f->sock->ifc, f);
	pthread_mutex_lock(&f->sock->lock);
	f->closing = true;
	pthread_mutex_unlock(&f->sock->lock);
	rx_sock_kick(f->sock);
	/* A client asleep in dmac_rx_recv() learns the flow is gone. */
	__atomic_fetch_or(&f->area->flags, DMAD_RX_F_DEAD, __ATOMIC_SEQ_CST);
	w = write(f->efd, &one, sizeof(one));
	(void)w;
}

bool rx_flow_reap(struct rx_flow *f)
{
	struct rx_flow **pp = &rx_all_flows;

	if (!__atomic_load_n(&f->drained, __ATOMIC_ACQUIRE) || !chan_drained(f->ch))
		return false;
	sock_unlink(f);
	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	log_debug("client %u: flow %u on %s port %u closed", f->owner->id, f->id,
		  f->sock->ifc->name, f->port);
	flow_free(f);
	return true;
}
