/* SPDX-License-Identifier: MIT */
/*
 * Requests from one client. Everything in a message is untrusted: sizes,
 * ids, fds and their kinds are checked before use, and every malformed
 * request gets an error reply while the connection stays usable.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "chan.h"
#include "client.h"
#include "device.h"
#include "hotplug.h"
#include "life.h"
#include "log.h"
#include "region.h"
#include "region_table.h"
#include "rx.h"
#include "status.h"

#define MAX_FDS 8

uint64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct client *client_new(int fd)
{
	socklen_t len = sizeof(struct ucred);
	struct client *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->id = ++dmad.next_client_id;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		free(c);
		return NULL;
	}
	len = sizeof(c->sndbuf);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &c->sndbuf, &len) < 0)
		c->sndbuf = DMAD_PROTO_MSG_MAX * 2;
	c->admin = admin_peer(fd, &c->cred);
	c->acct = quota_acct_new(c->cred.uid);
	if (!c->acct) {
		free(c);
		return NULL;
	}
	/* Over the limit, it is still answered: -EDQUOT, not a closed socket
	 * that its library would take for a daemon gone (-ENODEV). */
	switch (quota_admit(c->acct, c->admin)) {
	case 1:
		log_info("client %u (pid %d, uid %u): admitted on the admin reserve, for control "
			 "requests",
			 c->id, (int)c->cred.pid, (unsigned)c->cred.uid);
		break;
	case -EDQUOT:
		c->refused = true;
		c->refused_ms = client_now_ms();
		break;
	}
	snprintf(c->name, sizeof(c->name), "pid%d", (int)c->cred.pid);
	c->next = dmad.clients;
	dmad.clients = c;
	return c;
}

static int send_msg(struct client *c, uint16_t type, uint16_t flags, uint32_t seq, int32_t status,
		    const void *body, uint32_t len, const int *fds, unsigned nfds)
{
	struct dmad_proto_hdr h = {
		.magic = DMAD_PROTO_MAGIC,
		.major = DMAD_PROTO_VERSION_MAJOR,
		.minor = DMAD_PROTO_VERSION_MINOR,
		.type = type,
		.flags = flags,
		.seq = seq,
		.len = len,
		.status = status,
	};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)body, len}};
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DMAD_PROTO_FDS_MAX)];
	} u;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};

	if (nfds) {
		struct cmsghdr *cm;

		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	/* Never block the control thread on a client that stopped reading. */
	if (sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int client_send(struct client *c, uint16_t type, uint32_t seq, int32_t status, const void *body,
		uint32_t len, const int *fds, unsigned nfds)
{
	return send_msg(c, type, DMAD_PROTO_F_REPLY, seq, status, body, len, fds, nfds);
}

/*
 * Events are advice, not state (the ring always says where a channel is), so
 * a client that does not read them must not lose its replies to them: one
 * is dropped once the client's unread messages take a quarter of what its
 * socket may hold, which keeps room for the largest reply.
 */
void client_event(struct client *c, const struct dmad_proto_event *ev)
{
	int unread;

	if (c->closing || !c->hello)
		return;
	if (ioctl(c->fd, SIOCOUTQ, &unread) == 0 && unread > c->sndbuf / 4) {
		c->events_dropped++;
		return;
	}
	send_msg(c, DMAD_PROTO_EVENT, 0, 0, 0, ev, sizeof(*ev), NULL, 0);
}

static struct chan *find_chan(struct chan *list, uint32_t id)
{
	for (; list; list = list->next)
		if (list->id == id)
			return list;
	return NULL;
}

static int on_hello(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_hello_req *req = body;
	struct dmad_proto_hello_rep rep = {
		.client_id = c->id,
		.copybreak = dmad.copybreak,
		.max_regions = dmad.cfg.max_regions,
		.max_channels = dmad.cfg.max_channels,
		.max_bytes_mapped = dmad.cfg.max_bytes_mapped,
	};
	int life = life_fd();

	if (h->len != sizeof(*req))
		return -EBADMSG;
	if (c->hello)
		return -EALREADY;
	/* Shown by dmactl: keep it printable whatever the client sent. */
	for (size_t i = 0; i < sizeof(c->name) - 1 && req->name[i]; i++)
		c->name[i] = isprint((unsigned char)req->name[i]) ? req->name[i] : '?';
	c->name[strnlen(req->name, sizeof(c->name) - 1)] = '\0';
	if (!c->name[0])
		snprintf(c->name, sizeof(c->name), "pid%d", (int)c->cred.pid);
	c->hello = true;
	log_debug("client %u (pid %d, uid %u) hello as \"%s\"", c->id, (int)c->cred.pid,
		  (unsigned)c->cred.uid, c->name);
	return client_send(c, h->type, h->seq, 0, &rep, sizeof(rep), &life, life >= 0);
}

static int on_region_reg(struct client *c, const struct dmad_proto_hdr *h, const void *body,
			 const int *fds, unsigned nfds)
{
	const struct dmad_proto_region_reg_req *req = body;
	struct dmad_proto_region_reg_rep rep = {0};
	struct region *r;
	int ret;

	if (h->len != sizeof(*req))
		return -EBADMSG;
	if (nfds != 1)
		return -EINVAL;
	if (c->nregions >= dmad.cfg.max_regions ||
	    req->len > dmad.cfg.max_bytes_mapped - c->bytes_mapped)
		return -EDQUOT;
	ret = region_map(fds[0], req->len, c->acct, &r);
	if (ret < 0)
		return ret;
	ret = region_table_add(c, r);
	if (ret < 0) {
		region_unmap(r);
		return ret;
	}
	c->nregions++;
	c->bytes_mapped += req->len;
	rep.region_id = (uint32_t)ret;
	return client_send(c, h->type, h->seq, 0, &rep, sizeof(rep), NULL, 0);
}

static int on_region_unreg(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_region_unreg_req *req = body;
	struct region *r;

	if (h->len != sizeof(*req))
		return -EBADMSG;
	r = region_table_get(c, req->region_id);
	if (!r)
		return -EINVAL;
	region_retire(c, r);
	return client_send(c, h->type, h->seq, 0, NULL, 0, NULL, 0);
}

static int on_chan_get(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_chan_get_req *req = body;
	struct dmad_proto_chan_get_rep rep = {0};
	struct chan *ch;
	int fds[2], ret;

	if (h->len != sizeof(*req))
		return -EBADMSG;
	if (req->caps & ~(DMAD_PROTO_CAP_COPY | DMAD_PROTO_CAP_FILL))
		return -EINVAL;
	if (c->nchans >= dmad.cfg.max_channels)
		return -EDQUOT;
	ret = chan_create(c, req->caps, &ch);
	if (ret < 0)
		return ret;
	ch->id = ++c->next_chan_id;
	ret = chan_attach(ch, device_place(req->caps));
	if (ret < 0) {
		chan_destroy(ch);
		return ret;
	}
	ch->next = c->chans;
	c->chans = ch;
	c->nchans++;

	rep.chan_id = ch->id;
	rep.ring_size = ch->ring_size;
	rep.copybreak = ch->copybreak;
	if (ch->dev)
		snprintf(rep.device, sizeof(rep.device), "%s", ch->dev->name);
	fds[0] = ch->ring_fd;
	fds[1] = ch->doorbell_fd;
	log_debug("client %u: channel %u on %s", c->id, ch->id, ch->dev ? ch->dev->name : "cpu");
	return client_send(c, h->type, h->seq, 0, &rep, sizeof(rep), fds, 2);
}

static void chan_retire(struct client *c, struct chan *ch)
{
	struct chan **pp = &c->chans;

	while (*pp != ch)
		pp = &(*pp)->next;
	*pp = ch->next;
	c->nchans--;
	hotplug_forget_chan(ch);
	chan_detach_async(ch);
	ch->next = c->dead_chans;
	c->dead_chans = ch;
}

static int on_chan_put(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_chan_put_req *req = body;
	struct chan *ch;

	if (h->len != sizeof(*req))
		return -EBADMSG;
	ch = find_chan(c->chans, req->chan_id);
	if (!ch)
		return -EINVAL;
	chan_retire(c, ch);
	return client_send(c, h->type, h->seq, 0, NULL, 0, NULL, 0);
}

static int on_status(struct client *c, const struct dmad_proto_hdr *h)
{
	static uint8_t body[DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr)];
	uint32_t len;

	if (h->len)
		return -EBADMSG;
	/* Open to every client: status_build() leaves out what is not its own. */
	len = status_build(body, sizeof(body), c);
	return client_send(c, h->type, h->seq, 0, body, len, NULL, 0);
}

/* A name from the wire: NUL-terminated within its field, or refused. */
static bool name_ok(const char *s, size_t size)
{
	return strnlen(s, size) < size && s[0];
}

static int on_dev_remove(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_dev_remove_req *req = body;

	if (h->len != sizeof(*req) || !name_ok(req->name, sizeof(req->name)))
		return -EBADMSG;
	if (!c->admin)
		return -EACCES;
	/* 0: the reply goes out when the device is released. */
	return hotplug_remove(req->name, req->timeout_ms, c, h->seq);
}

static int on_dev_add(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_dev_add_req *req = body;
	struct dmad_proto_dev_add_rep rep = {0};
	int ret;

	if (h->len != sizeof(*req) || !name_ok(req->devargs, sizeof(req->devargs)))
		return -EBADMSG;
	if (!c->admin)
		return -EACCES;
	ret = hotplug_add(req->devargs, rep.name, &rep.moved);
	if (ret < 0)
		return ret;
	return client_send(c, h->type, h->seq, 0, &rep, sizeof(rep), NULL, 0);
}

static int on_dev_fault(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_dev_fault_req *req = body;
	int ret;

	if (h->len != sizeof(*req) || !name_ok(req->name, sizeof(req->name)))
		return -EBADMSG;
	if (!c->admin)
		return -EACCES;
	if (!dmad.cfg.fault_injection)
		return -EPERM; /* only a daemon started with --fault-injection takes faults */
	ret = hotplug_fault(req->name, req->fault);
	if (ret < 0)
		return ret;
	return client_send(c, h->type, h->seq, 0, NULL, 0, NULL, 0);
}

static int on_log_level(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	const struct dmad_proto_log_level_req *req = body;
	const struct log_about about = {.client_pid = c->cred.pid, .event = "log-level"};

	if (h->len != sizeof(*req) || req->rsvd)
		return -EBADMSG;
	if (!c->admin)
		return -EACCES;
	if (req->level > LOG_DEBUG)
		return -EINVAL;
	/* Logged under the more verbose of the old and new levels: the change
	 * shows in the log whichever way it goes. */
	if ((int)req->level > log_max_level)
		log_max_level = (int)req->level;
	log_about_printf(LOG_NOTICE, 0, &about, "log level set to %s by client %u (pid %d)",
			 log_level_name((int)req->level), c->id, (int)c->cred.pid);
	log_max_level = (int)req->level;
	return client_send(c, h->type, h->seq, 0, NULL, 0, NULL, 0);
}

static int dispatch(struct client *c, const struct dmad_proto_hdr *h, const void *body,
		    const int *fds, unsigned nfds)
{
	if (c->refused)
		return -EDQUOT;
	if (!c->hello && h->type != DMAD_PROTO_HELLO)
		return -EPROTO;
	/* Only region registration carries an fd. */
	if (nfds && h->type != DMAD_PROTO_REGION_REG)
		return -EINVAL;
	switch (h->type) {
	case DMAD_PROTO_HELLO:
		return on_hello(c, h, body);
	case DMAD_PROTO_REGION_REG:
		return on_region_reg(c, h, body, fds, nfds);
	case DMAD_PROTO_REGION_UNREG:
		return on_region_unreg(c, h, body);
	case DMAD_PROTO_CHAN_GET:
		return on_chan_get(c, h, body);
	case DMAD_PROTO_CHAN_PUT:
		return on_chan_put(c, h, body);
	case DMAD_PROTO_RX_OPEN:
		return rx_open(c, h, body);
	case DMAD_PROTO_RX_CLOSE:
		return rx_close(c, h, body);
	case DMAD_PROTO_FLOWS:
		return rx_flows(c, h);
	case DMAD_PROTO_STATUS:
		return on_status(c, h);
	case DMAD_PROTO_DEV_REMOVE:
		return on_dev_remove(c, h, body);
	case DMAD_PROTO_DEV_ADD:
		return on_dev_add(c, h, body);
	case DMAD_PROTO_DEV_FAULT:
		return on_dev_fault(c, h, body);
	case DMAD_PROTO_LOG_LEVEL:
		return on_log_level(c, h, body);
	}
	return -EOPNOTSUPP;
}

static unsigned take_fds(struct msghdr *msg, int *fds)
{
	unsigned n = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (n < MAX_FDS)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

struct msghdr *client_recv_prepare(struct client *c)
{
	/* Zeroed so that a control buffer the kernel left alone parses as empty. */
	memset(c->cbuf, 0, sizeof(c->cbuf));
	c->iov = (struct iovec){c->buf, sizeof(c->buf)};
	c->msg = (struct msghdr){.msg_iov = &c->iov,
				 .msg_iovlen = 1,
				 .msg_control = c->cbuf,
				 .msg_controllen = sizeof(c->cbuf)};
	return &c->msg;
}

void client_handle(struct client *c, ssize_t n)
{
	struct dmad_proto_hdr h = {0};
	int fds[MAX_FDS], ret;
	unsigned nfds = take_fds(&c->msg, fds);

	/* A request filling the whole buffer may have been cut, whether or not
	 * the receiving path reported MSG_TRUNC: none is that big. */
	if ((size_t)n == sizeof(c->buf))
		c->msg.msg_flags |= MSG_TRUNC;
	if ((size_t)n >= sizeof(h))
		memcpy(&h, c->buf, sizeof(h));
	if ((size_t)n < sizeof(h))
		ret = -EBADMSG;
	else if (h.magic != DMAD_PROTO_MAGIC || h.major != DMAD_PROTO_VERSION_MAJOR)
		ret = -EPROTO;
	else if (c->msg.msg_flags & MSG_TRUNC)
		ret = -EMSGSIZE;
	else if (c->msg.msg_flags & MSG_CTRUNC)
		ret = -EINVAL; /* more fds than any request carries */
	else if (h.len != (size_t)n - sizeof(h) || (h.flags & DMAD_PROTO_F_REPLY))
		ret = -EBADMSG;
	else
		ret = dispatch(c, &h, c->buf + sizeof(h), fds, nfds);

	if (ret < 0 && ret != -EAGAIN) {
		log_debug("client %u: request type %u seq %u refused: %s", c->id, h.type, h.seq,
			  strerror(-ret));
		ret = client_send(c, h.type, h.seq, ret, NULL, 0, NULL, 0);
	}
	/* A client whose socket buffer is full is not reading replies: drop it.
	 * One over the client limit has had its answer: its slot is not kept. */
	if (ret == -EAGAIN || ret == -EPIPE || ret == -ECONNRESET || c->refused)
		shutdown(c->fd, SHUT_RDWR);
	/* Whatever fds came along, the daemon keeps none: regions hold mappings. */
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
}

void client_close(struct client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	hotplug_forget_client(c);
	rx_client_close(c);
	while (c->chans)
		chan_retire(c, c->chans);
	for (uint32_t id = 0; c->regions && id < c->regions->n; id++) {
		struct region *r = region_table_get(c, id);

		if (r)
			region_retire(c, r);
	}
	log_debug("client %u (pid %d) disconnected", c->id, (int)c->cred.pid);
}

/*
 * Free what has drained. Returns true when @c itself is gone. Control
 * thread, from the periodic tick.
 */
bool client_reap(struct client *c)
{
	struct chan **pp = &c->dead_chans;
	bool regions_gone = region_table_reap(c);

	while (*pp) {
		struct chan *ch = *pp;

		if (chan_gone(ch)) {
			*pp = ch->next;
			chan_destroy(ch);
		} else {
			pp = &ch->next;
		}
	}
	/* Its flows go first: they may still be landing copies in their areas. */
	return rx_reap(c) && c->closing && !c->chans && !c->dead_chans && regions_gone;
}

void client_free(struct client *c)
{
	struct client **pp = &dmad.clients;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	close(c->fd);
	quota_acct_free(c->acct);
	free(c->regions);
	free(c);
}
