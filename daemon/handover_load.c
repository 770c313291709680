/* SPDX-License-Identifier: MIT */
/*
 * The sessions of the dmad before a restart, made again: read and checked
 * at start (handover_read(), before anything else opens an fd), rebuilt
 * once the engines are up (handover_restore()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "client.h"
#include "device.h"
#include "handover_bridge.h"
#include "handover_live.h"
#include "handover_sessions.h"
#include "handover_state.h"
#include "handover_totals.h"
#include "life.h"
#include "log.h"
#include "place.h"
#include "region.h"
#include "region_table.h"
#include "rx.h"
#include "share.h"

struct handover_loaded {
	void *buf;
	struct handover_view v;
	struct handover_bridge *bridge; /* serves the rings until the workers do */
	bool *bridged;			/* per client record: its rings among them */
};

static bool listening_socket(int fd)
{
	int type = 0, acc = 0;
	socklen_t l1 = sizeof(type), l2 = sizeof(acc);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 && type == SOCK_SEQPACKET &&
	       getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) == 0 && acc;
}

/*
 * Whatever the last dmad meant to hand on is an fd inherited without
 * FD_CLOEXEC (dmad's own all have it); so is what a library left behind
 * (EAL's interrupt and alarm fds: a set more at every restart). Close
 * every such fd: after an accepted state, once its own fds have
 * FD_CLOEXEC again; after a refused one (@keep_listener), so that their
 * clients see the daemon gone, all but a listening socket: the control
 * socket, kept with whoever waits on it. Returns that, or -1.
 */
static int close_inherited(bool keep_listener)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int lfd = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), fl;

		if (fd <= STDERR_FILENO || fd == dirfd(d))
			continue;
		fl = fcntl(fd, F_GETFD);
		if (fl < 0 || (fl & FD_CLOEXEC))
			continue;
		if (keep_listener && lfd < 0 && listening_socket(fd)) {
			lfd = fd;
			fcntl(fd, F_SETFD, FD_CLOEXEC);
			continue;
		}
		close(fd);
	}
	closedir(d);
	return lfd;
}

/* The fds from the fd store, renumbered: each table entry's by its name. */
static bool remap(struct handover_view *v, const int32_t *map, uint32_t nmap, const char **ret_why)
{
	struct handover_fd *t = (struct handover_fd *)v->fds;

	for (uint32_t i = 0; i < v->h->nfds; i++) {
		if (i >= nmap || map[i] < 0) {
			*ret_why = "the fd store lacks an fd its table names";
			return false;
		}
		t[i].fd = map[i];
	}
	return true;
}

/* A byte rate the state carries for client record @i or its @uid (dmactl set). */
static bool carried_rate(const struct handover_view *v, uint32_t i, uint32_t uid)
{
	if (v->ext.clients && v->ext.clients[i].rate)
		return true;
	for (uint32_t u = 0; v->ext.e && u < v->ext.e->nuids; u++)
		if (v->ext.uids[u].uid == uid && v->ext.uids[u].rate)
			return true;
	return false;
}

/* Serve the rings until the workers can, but those of a client whose uid
 * or itself has a byte rate: the bridge does not meter. Not after a crash: the
 * journal's ring positions are stale, and where a ring resumes is known
 * only at restore (handover_live_resume()). */
static void start_bridge(struct handover_loaded *l)
{
	bool *serve;

	if (handover_live_crashed())
		return;
	serve = calloc(l->v.h->nclients + 1, sizeof(*serve));

	for (uint32_t i = 0; serve && i < l->v.h->nclients; i++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		serve[i] = getsockopt(l->v.fds[l->v.clients[i].sock].fd, SOL_SOCKET, SO_PEERCRED,
				      &cred, &len) == 0 &&
			   !share_uid_metered(cred.uid) && !carried_rate(&l->v, i, cred.uid);
	}
	l->bridge = serve ? handover_bridge_start(&l->v, serve) : NULL;
	if (l->bridge)
		l->bridged = serve;
	else
		free(serve);
}

int handover_read(int fd, const int32_t *map, uint32_t nmap, struct handover_loaded **ret_loaded,
		  int *ret_lfd, bool *ret_owned)
{
	struct handover_loaded *l = calloc(1, sizeof(*l));
	const char *why = "out of memory";
	uint32_t at = 0;
	size_t len = 0;
	int ret = l ? handover_state_read(fd, &l->buf, &len) : -ENOMEM;

	close(fd);
	*ret_lfd = -1;
	if (ret < 0)
		why = "cannot be read, or is empty or too long";
	else if ((ret = handover_state_parse(l->buf, len, &l->v, &why)) < 0)
		;
	else if (map && !remap(&l->v, map, nmap, &why))
		ret = -EBADF;
	else if ((ret = handover_state_check_fds(&l->v, &why, &at)) < 0)
		log_error("handover state: fd %d (entry %u) refused", l->v.fds[at].fd, at);
	if (ret < 0) {
		*ret_lfd = close_inherited(true);
		if (l)
			free(l->buf);
		free(l);
		return log_error_errno(ret,
				       "refusing the handover state: %s; starting without the "
				       "sessions it held (their clients see the daemon gone)",
				       why);
	}
	for (uint32_t i = 0; i < l->v.h->nfds; i++)
		fcntl(l->v.fds[i].fd, F_SETFD, FD_CLOEXEC);
	close_inherited(false);
	for (uint32_t i = 0; i < l->v.h->ndevices; i++)
		device_calibration_carry(l->v.devices[i].name, l->v.devices[i].copybreak);
	start_bridge(l);
	dmad.generation = l->v.h->generation;
	*ret_lfd = l->v.fds[l->v.h->listen_fd].fd;
	*ret_owned = l->v.h->flags & HANDOVER_F_SOCKET_OWNED;
	*ret_loaded = l;
	return 0;
}

/* Where a channel that was on an engine goes now. */
static struct device *place(const struct handover_chan *hc, int node)
{
	for (unsigned i = 0; i < dmad.ndev; i++)
		if (dmad.devs[i]->state == DMAD_PROTO_DEV_ONLINE &&
		    !strcmp(dmad.devs[i]->name, hc->device))
			return dmad.devs[i];
	if (!strcmp(dmad.cpu->name, hc->device))
		return dmad.cpu;
	/* Descriptors may sit in its ring: an engine must take them, dmad's
	 * CPU engine if no other (as when the last device goes). */
	struct device *d = place_pick(hc->caps, node);

	return d ? d : dmad.cpu;
}

static int restore_region(struct client *c, const struct handover_region *hr, int fd)
{
	struct region *r;
	int ret = region_map(fd, hr->len, c->acct, &r);

	if (ret < 0)
		return ret;
	handover_live_add(r->fd, true);
	ret = region_table_put(c, r, hr->id);
	if (ret < 0) {
		region_unmap(r);
		return ret;
	}
	c->nregions++;
	c->bytes_mapped += hr->len;
	return 0;
}

static int restore_chan(struct client *c, const struct handover_chan *hc, int ring_fd,
			int doorbell_fd)
{
	uint32_t head = hc->head, err_tail = hc->err_tail;
	struct chan *ch;
	int ret;

	/* After a crash the state's ring position is stale: the ring says
	 * what retired, and what an engine held is done again. */
	if (handover_live_crashed())
		handover_live_resume(ring_fd, &head, &err_tail);
	ret = chan_adopt(&(struct chan_owner){&c->regions, c->acct, c->id}, hc->caps, ring_fd,
			 doorbell_fd, head, err_tail, &ch);

	if (ret < 0)
		return ret;
	ch->id = hc->id;
	ch->client = c;
	ch->copybreak = hc->copybreak;
	__atomic_store_n(&ch->ring->copybreak, hc->copybreak, __ATOMIC_RELAXED);
	ch->ops = hc->ops;
	ch->bytes = hc->bytes;
	ch->errors = hc->errors;
	/* Its client's weight and rate, carried with the client (handover_totals.c). */
	share_chan_init(c, ch);
	ch->node = place_node_of_pid(c->cred.pid);
	ret = chan_attach(ch, hc->flags & HANDOVER_CHAN_ENGINE ? place(hc, ch->node) : NULL);
	if (ret < 0) {
		chan_destroy(ch);
		return ret;
	}
	ch->next = c->chans;
	c->chans = ch;
	c->nchans++;
	return 0;
}

/* Microseconds from @t0 to @t1 (CLOCK_MONOTONIC ns); 0 if @t0 is later. */
static unsigned long long since(uint64_t t1, uint64_t t0)
{
	return t1 > t0 ? (t1 - t0) / 1000 : 0;
}

static void tell(struct client *c, uint64_t stall_us)
{
	struct dmad_proto_event ev = {
		.type = DMAD_PROTO_EV_RESTARTED,
		.chan_id = rx_restart_ended(c) ? DMAD_PROTO_RESTARTED_RX_ENDED : 0,
		.stall_us = stall_us,
	};
	int ret = client_event_fd(c, &ev, life_fd());

	/* Without the new page its library ends the session at its bound. */
	if (ret < 0)
		log_warning_errno(ret, "client %u (pid %d): cannot tell it dmad restarted: %m",
				  c->id, (int)c->cred.pid);
}

void handover_restore(struct handover_loaded *l)
{
	const struct handover_view *v = &l->v;
	const struct handover_fd *fds = v->fds;
	struct client **cs = calloc(v->h->nclients + 1, sizeof(*cs));
	uint32_t restored = 0;
	struct timespec ts;
	uint64_t now, served = 0, bridged = 0;
	int ret;

	if (!cs) {
		handover_bridge_stop(l->bridge, (struct handover_chan *)v->chans, v->h->nchans,
				     &bridged);
		log_error("cannot restore sessions: out of memory; closing them");
		for (uint32_t i = 0; i < v->h->nfds; i++)
			if (i != v->h->listen_fd)
				close(fds[i].fd);
		free(l->bridged);
		free(l->buf);
		free(l);
		return;
	}
	/* Settings before the clients: a uid's default weight is a client's at adoption. */
	handover_totals_restore(&v->ext);
	for (uint32_t i = 0; i < v->h->nclients; i++) {
		const struct handover_client *hc = &v->clients[i];

		cs[i] = client_adopt(fds[hc->sock].fd, hc->id);
		if (!cs[i]) {
			log_error("client %u: cannot restore it; closing its connection", hc->id);
			close(fds[hc->sock].fd);
			continue;
		}
		cs[i]->hello = hc->flags & HANDOVER_CLIENT_HELLO;
		cs[i]->monitor = hc->flags & HANDOVER_CLIENT_MONITOR;
		cs[i]->next_chan_id = hc->next_chan_id;
		if (cs[i]->hello)
			memcpy(cs[i]->name, hc->name, sizeof(cs[i]->name));
		handover_client_restore(cs[i], &v->ext.clients[i]);
		client_replay_restore(cs[i]);
	}
	for (uint32_t i = 0; i < v->h->nregions; i++) {
		const struct handover_region *hr = &v->regions[i];
		struct client *c = cs[hr->client];

		ret = c && !c->closing ? restore_region(c, hr, fds[hr->fd].fd) : -ENOENT;
		close(fds[hr->fd].fd); /* region_map() keeps its own */
		if (ret < 0 && c && !c->closing) {
			log_error_errno(ret, "client %u: cannot restore region %u: %m; closing it",
					c->id, hr->id);
			client_close(c);
		}
	}
	/* The buffer is ours: the bridge writes where it left each ring into
	 * the records, and no worker has the rings before it has stopped. */
	served = handover_bridge_stop(l->bridge, (struct handover_chan *)v->chans, v->h->nchans,
				      &bridged);
	for (uint32_t i = 0; i < v->h->nchans; i++) {
		const struct handover_chan *hc = &v->chans[i];
		struct client *c = cs[hc->client];

		if (!c || c->closing) {
			close(fds[hc->ring].fd);
			close(fds[hc->doorbell].fd);
			continue;
		}
		ret = restore_chan(c, hc, fds[hc->ring].fd, fds[hc->doorbell].fd);
		if (ret < 0) {
			log_error_errno(ret, "client %u: cannot restore channel %u: %m; closing it",
					c->id, hc->id);
			client_close(c);
		}
	}
	/* Retired as in the last dmad, once the channels whose rings may name
	 * them are back: each keeps its id until they have taken all that. */
	for (uint32_t i = 0; i < v->h->nregions; i++) {
		const struct handover_region *hr = &v->regions[i];
		struct client *c = cs[hr->client];
		struct region *r;

		if ((hr->flags & HANDOVER_REGION_RETIRED) && c && !c->closing &&
		    (r = region_table_get(c, hr->id)))
			region_retire(c, r);
	}
	rx_handover_restore(&v->ext, fds, cs);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (uint32_t i = 0; i < v->h->nclients; i++) {
		if (!cs[i] || cs[i]->closing)
			continue;
		restored++;
		/* The stall is until its rings were served again, by the bridge if it
		 * ran. One that has not said HELLO yet is told too: its HELLO may
		 * have died with the last dmad, and comes again (client_replay.c). */
		tell(cs[i],
		     since(l->bridged && l->bridged[i] && served ? served : now, v->h->started_ns));
	}
	log_info("restart %llu: %u of %u client(s) restored, %llu us after it began (drain and "
		 "exec %llu us, EAL %llu, engines %llu, sessions %llu); rings served again after "
		 "%llu us, %llu descriptor(s) by the bridge",
		 (unsigned long long)v->h->generation, restored, v->h->nclients,
		 since(now, v->h->started_ns), since(dmad.main_ns, v->h->started_ns),
		 since(dmad.eal_ns, dmad.main_ns), since(dmad.engines_ns, dmad.eal_ns),
		 since(now, dmad.engines_ns), since(served ? served : now, v->h->started_ns),
		 (unsigned long long)bridged);
	free(cs);
	free(l->bridged);
	free(l->buf);
	free(l);
}
