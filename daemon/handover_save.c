/* SPDX-License-Identifier: MIT */
/*
 * Every live session into the handover state, after the workers stopped.
 * Only what the next dmad cannot learn again, or not quickly, goes in: ids,
 * names, lengths, where each ring stands, each device's calibration.
 * Credentials and the admin tier are asked of the kernel again from each
 * socket; quotas are charged again as it maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "chan.h"
#include "client.h"
#include "device.h"
#include "handover_sessions.h"
#include "handover_state.h"
#include "handover_totals.h"
#include "log.h"
#include "region_table.h"
#include "rx.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A session worth handing on: one that a restart would otherwise end. */
static bool live(const struct client *c)
{
	if (c->closing || c->refused)
		return false;
	/* A faulted ring's client is being disconnected anyway. */
	for (const struct chan *ch = c->chans; ch; ch = ch->next)
		if (ch->faulted)
			return false;
	return true;
}

struct writer {
	struct handover_view v;
	uint32_t nclients, nregions, nchans, ndevices, nfds, nrxflows;
};

static uint32_t add_fd(struct writer *w, uint32_t kind, int fd)
{
	struct handover_fd *t = (struct handover_fd *)w->v.fds;

	t[w->nfds] = (struct handover_fd){kind, fd};
	return w->nfds++;
}

/* For rx_handover_save(). */
static uint32_t add_fd_cb(void *w, uint32_t kind, int fd)
{
	return add_fd(w, kind, fd);
}

static void add_client(struct writer *w, struct client *c)
{
	struct handover_client *hc = (struct handover_client *)&w->v.clients[w->nclients];
	uint32_t ci = w->nclients++;

	*hc = (struct handover_client){
		.id = c->id,
		.sock = add_fd(w, HANDOVER_FD_CLIENT, c->fd),
		.next_chan_id = c->next_chan_id,
		.flags = (c->hello ? HANDOVER_CLIENT_HELLO : 0) |
			 (c->monitor ? HANDOVER_CLIENT_MONITOR : 0),
	};
	memcpy(hc->name, c->name, sizeof(hc->name));
	handover_client_save(c, (struct handover_client_ext *)&w->v.ext.clients[ci]);
	/* Retired ones still in the table too: descriptors in the rings name
	 * them, and the next dmad must resolve those to them, not to a region
	 * registered after. */
	for (uint32_t id = 0; c->regions && id < c->regions->n; id++) {
		struct region *r = region_table_held(c, id);

		if (r)
			*(struct handover_region *)&w->v.regions[w->nregions++] =
				(struct handover_region){
					.client = ci,
					.id = r->id,
					.len = r->view.len,
					.fd = add_fd(w, HANDOVER_FD_REGION, r->fd),
					.flags = r->retired ? HANDOVER_REGION_RETIRED : 0};
	}
	for (struct chan *ch = c->chans; ch; ch = ch->next) {
		struct handover_chan *hch = (struct handover_chan *)&w->v.chans[w->nchans++];
		/* A channel a removal or a rebalance had taken off its device goes
		 * back to an engine: its ring may hold what no library copies. */
		bool engine = chan_served(ch);

		*hch = (struct handover_chan){
			.client = ci,
			.id = ch->id,
			.caps = ch->caps,
			.copybreak = ch->copybreak,
			.ring = add_fd(w, HANDOVER_FD_RING, ch->ring_fd),
			.doorbell = add_fd(w, HANDOVER_FD_DOORBELL, ch->doorbell_fd),
			.head = ch->head,
			.err_tail = ch->err_tail,
			.flags = engine ? HANDOVER_CHAN_ENGINE : 0,
			.ops = ch->ops,
			.bytes = ch->bytes,
			.errors = ch->errors,
		};
		if (ch->dev)
			memcpy(hch->device, ch->dev->name, sizeof(hch->device));
	}
}

/* Its calibration: the next dmad's start takes it rather than measure
 * again while every client waits. */
static void add_device(struct writer *w, const struct device *d)
{
	struct handover_device *hd = (struct handover_device *)&w->v.devices[w->ndevices++];

	snprintf(hd->name, sizeof(hd->name), "%s", d->name);
	hd->copybreak = RTE_MIN(RTE_MAX(d->copybreak, 1u), HANDOVER_MAX_COPYBREAK);
}

static int write_memfd(const void *buf, size_t len)
{
	int fd = memfd_create("dmad-handover", MFD_ALLOW_SEALING); /* no CLOEXEC: for the exec */
	const uint8_t *p = buf;
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0) {
			int ret = -errno;

			close(fd);
			return ret;
		}
		done += (size_t)n;
	}
	/* Nothing changes it between here and the next dmad's read. */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/*
 * Every live session into a state: malloc'd, its length in *@ret_len.
 * Receive flows too: in the crash journal without their positions, which
 * the rx thread keeps itself (rx_ledger.h).
 */
static void *build(int lfd, bool owned, struct writer *w, size_t *ret_len)
{
	uint32_t nclients = 0, nregions = 0, nchans = 0, nfds;
	struct handover_ext_counts x = {0};
	struct client **cs;
	size_t len;
	void *buf;

	for (struct client *c = dmad.clients; c; c = c->next) {
		if (!live(c))
			continue;
		nclients++;
		for (uint32_t id = 0; c->regions && id < c->regions->n; id++)
			nregions += region_table_held(c, id) != NULL;
		nchans += c->nchans;
	}
	/* The clients in record order, for the flows to name theirs. */
	cs = calloc(nclients + 1, sizeof(*cs));
	if (!cs) {
		log_error("cannot hand over: out of memory");
		return NULL;
	}
	for (struct client *c = dmad.clients; c; c = c->next)
		if (live(c))
			cs[x.nclients++] = c;
	handover_totals_count(&x);
	rx_handover_count(cs, nclients, &x);
	nfds = 1 + nclients + nregions + 2 * nchans + 4 * x.nrxifs + 2 * x.nrxsocks +
	       2 * x.nrxflows;
	len = handover_state_size_ext(nclients, nregions, nchans, dmad.ndev, nfds, &x);
	if (len > HANDOVER_MAX_LEN) {
		free(cs);
		log_error("too many sessions to hand over (%zu bytes)", len);
		return NULL;
	}
	buf = calloc(1, len);
	if (!buf) {
		free(cs);
		log_error("cannot hand over: out of memory");
		return NULL;
	}
	handover_state_init_ext(buf, nclients, nregions, nchans, dmad.ndev, nfds, &x, &w->v);
	((struct handover_hdr *)w->v.h)->listen_fd = add_fd(w, HANDOVER_FD_LISTEN, lfd);
	((struct handover_hdr *)w->v.h)->started_ns = dmad.restart_ns ? dmad.restart_ns : now_ns();
	((struct handover_hdr *)w->v.h)->generation = dmad.generation + 1;
	((struct handover_hdr *)w->v.h)->flags = owned ? HANDOVER_F_SOCKET_OWNED : 0;
	for (struct client *c = dmad.clients; c; c = c->next)
		if (live(c))
			add_client(w, c);
	for (unsigned i = 0; i < dmad.ndev; i++)
		add_device(w, dmad.devs[i]);
	handover_totals_save(&w->v.ext);
	rx_handover_save(cs, nclients, &w->v.ext, add_fd_cb, w);
	free(cs);
	w->nrxflows = x.nrxflows;
	*ret_len = len;
	return buf;
}

void *handover_save_state(int lfd, bool owned, size_t *ret_len)
{
	struct writer w = {0};

	return build(lfd, owned, &w, ret_len);
}

int handover_save(int lfd, bool owned)
{
	struct writer w = {0};
	size_t len = 0;
	void *buf = build(lfd, owned, &w, &len);
	int fd;

	if (!buf)
		return -ENOMEM;
	fd = write_memfd(buf, len);
	if (fd < 0) {
		free(buf);
		return log_error_errno(fd, "cannot write the handover state: %m");
	}
	/* From here the exec keeps them. */
	for (uint32_t i = 0; i < w.nfds; i++)
		fcntl(w.v.fds[i].fd, F_SETFD, 0);
	log_info("handing over %u client(s), %u region(s), %u channel(s), %u rx flow(s), %u fds, "
		 "%llu us after the restart was asked",
		 w.nclients, w.nregions, w.nchans, w.nrxflows, w.nfds,
		 (unsigned long long)(now_ns() - w.v.h->started_ns) / 1000);
	free(buf);
	return fd;
}
