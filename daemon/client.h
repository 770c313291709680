/* SPDX-License-Identifier: MIT */
/* One connected client: its credentials, regions, channels and quotas. */
#ifndef DMAD_CLIENT_H
#define DMAD_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"
#include "handover_replies.h"

/* How far one channel must get before a retired region moves on. */
struct drain_mark {
	uint32_t chan_id;
	uint64_t count; /* descriptors consumed (stage 1), or retired (stage 2) */
};

/*
 * An unregistered region (region_table.c). Stage 1: still in the table
 * until every channel consumed what was published before the unregister.
 * Stage 2 (@unpublished, then @marked after a grace period): out of the
 * table, mapped until every channel retired what it had consumed by then.
 */
struct region_zombie {
	struct region *r;
	bool unpublished; /* out of the table... */
	bool marked;	  /* ...and its grace period (@token) is over */
	uint64_t token;
	struct region_zombie *next_stage; /* region_table.c, while moving on */
	uint32_t n;
	struct region_zombie *next;
	struct drain_mark marks[];
};

/* Most fds one request may carry that dmad takes; the rest are closed. */
#define CLIENT_FDS_MAX 8

struct client {
	int fd;
	uint32_t id;
	struct ucred cred;
	bool admin;
	bool refused; /* over the client limit: every request gets -EDQUOT, then it goes */
	bool hello;
	bool closing;		/* socket gone: waiting for in-flight copies to retire */
	bool recv_pending;	/* an io_uring recvmsg points into this struct */
	bool recv_held;		/* not read until the closer has closed its fds */
	uint64_t closer_ticket; /* the last fd it sent that waits there (closer.h) */
	char name[DMAD_PROTO_NAME_MAX];
	int sndbuf;		 /* SO_SNDBUF: events leave room for replies */
	uint64_t events_dropped; /* unread events pile up: the newest are dropped */
	bool monitor;		 /* asked MONITOR: gets monitor events (monitor.c) */
	uint64_t monitor_lost;	 /* monitor events that did not fit, not yet reported */

	struct quota_acct *acct;	/* what it maps and holds, for its user and in all */
	uint32_t weight;		/* its share of an engine (share.c) */
	bool weight_own;		/* set for it, not its unit's or uid's default */
	bool unit_known;		/* unit looked up (share.c) */
	char unit[DMAD_PROTO_UNIT_MAX]; /* its systemd unit; "": none */
	struct rate rate;		/* its byte-rate limit; workers read it */
	uint64_t refused_ms;		/* CLOCK_MONOTONIC, when refused */

	struct region_table *regions; /* RCU-published, read by workers */
	struct region_zombie *zombies;
	struct chan *chans;
	struct chan *dead_chans; /* put, waiting for in-flight copies to retire */
	uint32_t nregions;
	uint32_t nchans;
	uint64_t bytes_mapped;
	uint32_t next_chan_id;
	/* What its destroyed channels did: client_totals() adds the rest. */
	uint64_t put_ops, put_bytes, put_errors;
	uint64_t gone_us; /* CLOCK_REALTIME, when client_close() saw it go */
	/* Its last answer to a request that changes the sessions, to send
	 * again for the same request (client_replay.c); client_id 0: none. */
	struct handover_reply last;

	/* Receive buffers for the request in flight on io_uring. */
	struct msghdr msg;
	struct iovec iov;
	uint8_t buf[DMAD_PROTO_REQ_MAX];
	uint8_t cbuf[CMSG_SPACE(sizeof(int) * CLIENT_FDS_MAX)];

	struct client *next;
};

/* One request, checked against its request_type (client_wire.c). */
struct client_req {
	const struct dmad_proto_hdr *h;
	const void *body; /* h->len bytes */
	const int *fds;	  /* as many as the type takes */
};

/* What a handler answers; client_wire.c sends it. */
struct client_rep {
	const void *body; /* NULL: none; client_rep_body() points it at buf */
	uint32_t len;
	int fds[DMAD_PROTO_FDS_MAX];
	unsigned nfds;
	bool later; /* answered later (a removal, once the device is released) */
	bool error; /* a refusal with its reason (client_rep_error()) in buf */
	union {
		uint64_t align;
		uint8_t buf[256];
		struct dmad_proto_error text;
	};
};

/* A zeroed reply body of @len bytes (at most sizeof(rep->buf)) in @rep. */
static inline void *client_rep_body(struct client_rep *rep, uint32_t len)
{
	memset(rep->buf, 0, len);
	rep->body = rep->buf;
	rep->len = len;
	return rep->buf;
}

/*
 * client_rep_error() - refuse with @err and say why, in words a person
 * reads (dmad_proto_error, cut to fit). Returns @err, for a handler's return.
 */
int client_rep_error(struct client_rep *rep, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A request type: what its body and fds must be, who may ask, who answers. */
struct client_req_type {
	uint16_t type;
	const char *name; /* for the log */
	uint32_t len;	  /* the body's exact length */
	uint8_t nfds;	  /* the fds it carries */
	bool admin;	  /* root, dmad's user, or the admin group only */
	int (*handler)(struct client *c, const struct client_req *rq, struct client_rep *rep);
};

/* client_requests.c: the type of @type, or NULL. */
const struct client_req_type *client_req_type(uint16_t type);

/* client_init() - tell clients what hotplug does (events.h). Once, at start. */
int client_init(void);
/* client_new() - a client for the connection @fd, admitted or refused
 * (quota.h); NULL when out of memory. */
struct client *client_new(int fd);
/* client_adopt() - client_new() for a connection a dmad before a restart
 * had accepted, keeping its @id. */
struct client *client_adopt(int fd, uint32_t id);
/* The channel @id on @list (a client's chans or dead_chans), or NULL. */
struct chan *client_find_chan(struct chan *list, uint32_t id);
/* client_chan_retire() - @c puts @ch: killed, kept on dead_chans until gone. */
void client_chan_retire(struct client *c, struct chan *ch);
/* What @c's channels did, live, put and destroyed ones together: never
 * decreases while @c lives. */
struct client_sum {
	uint64_t ops, bytes, errors;
};
struct client_sum client_totals(const struct client *c);
/* client_now_ms() - CLOCK_MONOTONIC in ms, as refused_ms counts it. */
uint64_t client_now_ms(void);
/* client_recv_prepare() - point c->msg at the client's receive buffers, for
 * one recvmsg (io_uring's or a plain one) that client_handle() then reads. */
struct msghdr *client_recv_prepare(struct client *c);
/* client_handle() - serve the request of @n (> 0) bytes just received. */
void client_handle(struct client *c, ssize_t n);
void client_close(struct client *c);
bool client_reap(struct client *c);
int client_send(struct client *c, uint16_t type, uint32_t seq, int32_t status, const void *body,
		uint32_t len, const int *fds, unsigned nfds);
void client_event(struct client *c, const struct dmad_proto_event *ev);
/* client_send_event() - one unsolicited message, never waiting: 0, or
 * -EAGAIN when the client's socket buffer is full, or another -errno. */
int client_send_event(struct client *c, uint16_t type, const void *body, uint32_t len);
/* client_event_fd() - an event that carries @fd; never dropped for a full
 * queue, as client_event() drops advice. Returns 0 or -errno. */
int client_event_fd(struct client *c, const struct dmad_proto_event *ev, int fd);
void client_free(struct client *c);

/* client_replay.c: a request sent again after a crash (minor 11 on). */
/* client_replay_keep() - @c was answered @status and @rep for @h: keep
 * it, if of a type that changes the sessions, before the journal's write. */
void client_replay_keep(struct client *c, const struct dmad_proto_hdr *h, int status,
			const struct client_rep *rep);
/* client_replay() - is @h the request @c was last answered for? Then it
 * is answered again as then (the send's result in *@ret): true. */
bool client_replay(struct client *c, const struct dmad_proto_hdr *h, int *ret);
/* client_replay_restore() - @c, adopted from a crash journal, takes the
 * last answer the journal kept for it. */
void client_replay_restore(struct client *c);
/* client_replay_journal() - every client's last answer, for the journal
 * (handover_live_start()): malloc'd, *@ret_n records; NULL on failure. */
struct handover_reply *client_replay_journal(uint32_t *ret_n);

#endif /* DMAD_CLIENT_H */
