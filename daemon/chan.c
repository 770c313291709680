/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chan.h"
#include "fair.h"
#include "handover_live.h"
#include "log.h"
#include "worker.h"

static void ring_init(struct dmad_proto_ring *r, uint32_t size, uint32_t copybreak)
{
	memset(r, 0, sizeof(*r));
	r->magic = DMAD_PROTO_RING_MAGIC;
	r->version = DMAD_PROTO_RING_VERSION;
	r->sq_entries = DMAD_PROTO_SQ_ENTRIES;
	r->err_entries = DMAD_PROTO_ERR_ENTRIES;
	r->sq_offset = sizeof(*r);
	r->err_offset = r->sq_offset + DMAD_PROTO_SQ_ENTRIES * sizeof(struct dmad_proto_desc);
	r->size = size;
	r->copybreak = copybreak;
}

/* Every channel, for those that act on all of them (hotplug). */
static struct chan *all;

struct chan *chan_next(struct chan *prev)
{
	return prev ? prev->all_next : all;
}

static void list_add(struct chan *ch)
{
	ch->sq = (struct dmad_proto_desc *)((uint8_t *)ch->ring + sizeof(*ch->ring));
	ch->err = (struct dmad_proto_err *)(ch->sq + DMAD_PROTO_SQ_ENTRIES);
	ch->all_next = all;
	if (all)
		all->all_pprev = &ch->all_next;
	ch->all_pprev = &all;
	all = ch;
}

/* A channel charged to @o, with no ring yet. Returns 0, -EDQUOT, -ENOMEM. */
static int chan_new(const struct chan_owner *o, uint32_t caps, struct chan **ret_chan)
{
	uint32_t size = dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES);
	struct chan *ch;

	/* A ring is a mapping and two fds in dmad, for as long as the channel lives. */
	if (quota_charge(o->acct, quota_chan(size)) < 0)
		return -EDQUOT;
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		quota_release(o->acct, quota_chan(size));
		return -ENOMEM;
	}
	ch->acct = o->acct;
	ch->ring_fd = ch->doorbell_fd = -1;
	ch->regions = o->regions;
	ch->owner_id = o->id;
	ch->caps = caps;
	ch->weight = FAIR_WEIGHT_DEFAULT;
	ch->node = -1;
	ch->ring_size = size;
	ch->sq_mask = DMAD_PROTO_SQ_ENTRIES - 1;
	*ret_chan = ch;
	return 0;
}

int chan_adopt(const struct chan_owner *o, uint32_t caps, int ring_fd, int doorbell_fd,
	       uint32_t head, uint32_t err_tail, struct chan **ret_chan)
{
	struct chan *ch;
	int ret = chan_new(o, caps, &ch);

	if (ret < 0) {
		close(ring_fd);
		close(doorbell_fd);
		return ret;
	}
	ch->ring_fd = ring_fd;
	ch->doorbell_fd = doorbell_fd;
	ch->ring = mmap(NULL, ch->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
	if (ch->ring == MAP_FAILED) {
		ch->ring = NULL;
		ret = -errno;
		chan_destroy(ch);
		return ret;
	}
	/* The worker's side from the state, never from the ring, which the
	 * client can write: consumed counts as if the ring had started here. */
	ch->head = head;
	ch->consumed = ch->retired = head;
	ch->err_tail = err_tail;
	__atomic_store_n(&ch->ring->err_tail, err_tail, __ATOMIC_RELEASE);
	dmad_ring_cons_release(ch->ring, head);
	handover_live_add(ring_fd, false);
	handover_live_add(doorbell_fd, false);
	list_add(ch);
	*ret_chan = ch;
	return 0;
}

int chan_create(const struct chan_owner *o, uint32_t caps, struct chan **ret_chan)
{
	struct chan *ch;
	int ret = chan_new(o, caps, &ch);

	if (ret < 0)
		return ret;
	ch->ring_fd = memfd_create("dmad-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (ch->ring_fd < 0 || ftruncate(ch->ring_fd, ch->ring_size) < 0 ||
	    fcntl(ch->ring_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail_errno;
	ch->ring = mmap(NULL, ch->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, ch->ring_fd, 0);
	if (ch->ring == MAP_FAILED) {
		ch->ring = NULL;
		goto fail_errno;
	}
	/* Non-blocking: a client ringing a saturated doorbell must not hang. */
	ch->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch->doorbell_fd < 0)
		goto fail_errno;
	ch->copybreak = dmad.copybreak;
	ring_init(ch->ring, ch->ring_size, ch->copybreak);
	list_add(ch);
	*ret_chan = ch;
	return 0;

fail_errno:
	ret = -errno;
	chan_destroy(ch);
	return ret;
}

/*
 * Replace @d's published channel array with one that has @add and lacks
 * @del. The old one is freed once no worker holds it; with @wait, that is
 * before returning, so that no worker touches @del any more.
 */
static int republish(struct device *d, struct chan *add, struct chan *del, bool wait)
{
	struct chan_array *old = d->chans, *a;
	uint32_t n = old ? old->n : 0, k = 0;

	a = malloc(sizeof(*a) + (n + 1) * sizeof(a->c[0]));
	if (!a)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		if (old->c[i] != del)
			a->c[k++] = old->c[i];
	if (add)
		a->c[k++] = add;
	a->n = k;
	rcu_publish(d->chans, a);
	if (wait) {
		rcu_synchronize();
		free(old);
	} else {
		rcu_defer_free(old);
	}
	return 0;
}

int chan_attach(struct chan *ch, struct device *d)
{
	struct worker *w;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	int ret;

	ch->dev = d;
	if (!d) {
		__atomic_fetch_or(&ch->ring->flags, DMAD_PROTO_RF_CPU, __ATOMIC_RELEASE);
		return 0;
	}
	w = &dmad.workers[d->worker];
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ch->doorbell_fd, &ev) < 0)
		return log_error_errno(-errno, "cannot watch a channel doorbell: %m");
	/* The worker picks the channel up on its next loop: nothing to wait for. */
	ret = republish(d, ch, NULL, false);
	if (ret < 0) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, ch->doorbell_fd, NULL);
		ch->dev = NULL;
		return ret;
	}
	__atomic_fetch_and(&ch->ring->flags, ~DMAD_PROTO_RF_CPU, __ATOMIC_RELEASE);
	d->nchans++;
	worker_kick(w);
	return 0;
}

static void detach(struct chan *ch, bool wait)
{
	struct device *d = ch->dev;

	if (!d)
		return;
	epoll_ctl(dmad.workers[d->worker].epfd, EPOLL_CTL_DEL, ch->doorbell_fd, NULL);
	/* Only fails on allocation; then keep the channel published, and the
	 * client's ring stays served rather than leaking copies half-done. */
	if (republish(d, NULL, ch, wait) < 0) {
		log_error("cannot detach channel %u: out of memory", ch->id);
		return;
	}
	ch->gone_token = rcu_token();
	d->nchans--;
	ch->dev = NULL;
}

void chan_detach(struct chan *ch)
{
	detach(ch, true);
}

void chan_kill(struct chan *ch)
{
	ch->dead = true;
	/* Whatever drain had taken it off its device will not put it back. */
	ch->moving = NULL;
	detach(ch, false);
}

struct chan **chan_detach_all(struct device *d, uint32_t *ret_n)
{
	struct chan_array *old = d->chans;
	struct chan **list;
	uint32_t n = old ? old->n : 0;

	*ret_n = 0;
	if (!n)
		return NULL;
	list = malloc(n * sizeof(*list));
	if (!list)
		return NULL;
	memcpy(list, old->c, n * sizeof(*list));
	rcu_publish(d->chans, NULL);
	for (uint32_t i = 0; i < n; i++) {
		epoll_ctl(dmad.workers[d->worker].epfd, EPOLL_CTL_DEL, list[i]->doorbell_fd, NULL);
		list[i]->dev = NULL;
	}
	rcu_synchronize();
	free(old);
	d->nchans = 0;
	*ret_n = n;
	return list;
}

bool chan_drained(struct chan *ch)
{
	return __atomic_load_n(&ch->inflight, __ATOMIC_ACQUIRE) == 0;
}

bool chan_gone(struct chan *ch)
{
	/* First no worker can take more from it, then what it took has retired. */
	return rcu_passed(ch->gone_token) && chan_drained(ch);
}

void chan_mark_dead(struct chan *ch)
{
	__atomic_fetch_or(&ch->ring->flags, DMAD_PROTO_RF_DEAD, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &ch->ring->completed, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void chan_destroy(struct chan *ch)
{
	if (!ch)
		return;
	if (ch->all_pprev) {
		*ch->all_pprev = ch->all_next;
		if (ch->all_next)
			ch->all_next->all_pprev = ch->all_pprev;
	}
	if (ch->ring)
		munmap(ch->ring, ch->ring_size);
	handover_live_drop(ch->ring_fd);
	handover_live_drop(ch->doorbell_fd);
	if (ch->ring_fd >= 0)
		close(ch->ring_fd);
	if (ch->doorbell_fd >= 0)
		close(ch->doorbell_fd);
	quota_release(ch->acct, quota_chan(ch->ring_size));
	free(ch);
}
