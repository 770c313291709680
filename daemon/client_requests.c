/* SPDX-License-Identifier: MIT */
/*
 * What a client may ask, one handler per request type. The table says what
 * each request must look like (body length, fds, admin only); client_wire.c
 * has checked that before a handler runs. A handler fills in its reply and
 * client_wire.c sends it: no handler sends anything itself.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>

#include "chan.h"
#include "client.h"
#include "device.h"
#include "dmad_rx.h"
#include "events.h"
#include "handover.h"
#include "handover_live.h"
#include "hotplug.h"
#include "life.h"
#include "log.h"
#include "monitor.h"
#include "place.h"
#include "region.h"
#include "region_table.h"
#include "retired.h"
#include "rx.h"
#include "share.h"
#include "status.h"

/* A name from the wire: NUL-terminated within its field, or refused. */
static bool name_ok(const char *s, size_t size)
{
	return strnlen(s, size) < size && s[0];
}

static int on_hello(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_hello_req *req = rq->body;
	struct dmad_proto_hello_rep *hr = client_rep_body(rep, sizeof(*hr));
	int life = life_fd();

	if (c->hello)
		return -EALREADY;
	*hr = (struct dmad_proto_hello_rep){
		.client_id = c->id,
		.copybreak = dmad.copybreak,
		.max_regions = dmad.cfg.max_regions,
		.max_channels = dmad.cfg.max_channels,
		.max_bytes_mapped = dmad.cfg.max_bytes_mapped,
	};
	/* Shown by dmactl: keep it printable whatever the client sent. */
	for (size_t i = 0; i < sizeof(c->name) - 1 && req->name[i]; i++)
		c->name[i] = isprint((unsigned char)req->name[i]) ? req->name[i] : '?';
	c->name[strnlen(req->name, sizeof(c->name) - 1)] = '\0';
	if (!c->name[0])
		snprintf(c->name, sizeof(c->name), "pid%d", (int)c->cred.pid);
	c->hello = true;
	events_emit(&(struct event){.type = EVENT_CLIENT_CONNECTED, .client = c});
	if (life >= 0)
		rep->fds[rep->nfds++] = life;
	log_debug("client %u (pid %d, uid %u) hello as \"%s\"", c->id, (int)c->cred.pid,
		  (unsigned)c->cred.uid, c->name);
	return 0;
}

static int on_region_reg(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_region_reg_req *req = rq->body;
	struct region *r;
	int ret;

	if (c->nregions >= dmad.cfg.max_regions ||
	    req->len > dmad.cfg.max_bytes_mapped - c->bytes_mapped)
		return -EDQUOT;
	ret = region_map(rq->fds[0], req->len, c->acct, &r);
	if (ret < 0)
		return ret;
	handover_live_add(r->fd, true);
	ret = region_table_add(c, r);
	if (ret < 0) {
		region_unmap(r);
		return ret;
	}
	c->nregions++;
	c->bytes_mapped += req->len;
	((struct dmad_proto_region_reg_rep *)client_rep_body(
		 rep, sizeof(struct dmad_proto_region_reg_rep)))
		->region_id = (uint32_t)ret;
	return 0;
}

static int on_region_unreg(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_region_unreg_req *req = rq->body;
	struct region *r = region_table_get(c, req->region_id);

	(void)rep;
	if (!r)
		return -EINVAL;
	region_retire(c, r);
	return 0;
}

static int on_chan_get(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_chan_get_req *req = rq->body;
	struct dmad_proto_chan_get_rep *cr;
	struct chan *ch;
	int ret;

	if (req->caps & ~(DMAD_PROTO_CAP_COPY | DMAD_PROTO_CAP_FILL))
		return -EINVAL;
	if (c->nchans >= dmad.cfg.max_channels)
		return -EDQUOT;
	ret = chan_create(&(struct chan_owner){&c->regions, c->acct, c->id}, req->caps, &ch);
	if (ret < 0)
		return ret;
	/* A client's, for a crash (a receive flow's own channel is not). */
	handover_live_add(ch->ring_fd, false);
	handover_live_add(ch->doorbell_fd, false);
	ch->id = ++c->next_chan_id;
	ch->client = c;
	share_chan_init(c, ch);
	ch->node = place_node_of_pid(c->cred.pid);
	ret = chan_attach(ch, place_chan(req->caps, ch->node));
	if (ret < 0) {
		chan_destroy(ch);
		return ret;
	}
	ch->next = c->chans;
	c->chans = ch;
	c->nchans++;

	cr = client_rep_body(rep, sizeof(*cr));
	cr->chan_id = ch->id;
	cr->ring_size = ch->ring_size;
	cr->copybreak = ch->copybreak;
	if (ch->dev)
		snprintf(cr->device, sizeof(cr->device), "%s", ch->dev->name);
	rep->fds[0] = ch->ring_fd;
	rep->fds[1] = ch->doorbell_fd;
	rep->nfds = 2;
	log_debug("client %u: channel %u on %s", c->id, ch->id, ch->dev ? ch->dev->name : "cpu");
	return 0;
}

static int on_chan_put(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_chan_put_req *req = rq->body;
	struct chan *ch = client_find_chan(c->chans, req->chan_id);

	(void)rep;
	if (!ch)
		return -EINVAL;
	client_chan_retire(c, ch);
	return 0;
}

static int on_status(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	static uint8_t body[DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr)];

	(void)rq;
	/* Open to every client: status_build() leaves out what is not its own. */
	rep->len = status_build(body, sizeof(body), c);
	rep->body = body;
	return 0;
}

/* A request answered later: by client id, since the client may be gone by then. */
struct pending_reply {
	uint32_t client_id;
	uint32_t seq;
};

static struct client *find_client(uint32_t id)
{
	for (struct client *c = dmad.clients; c; c = c->next)
		if (c->id == id && !c->closing)
			return c;
	return NULL;
}

/* A removal ended: what moved where, for dmactl remove. */
static void removed(int status, const struct hotplug_removed *r, void *token)
{
	struct pending_reply *p = token;
	struct client *c = find_client(p->client_id);
	struct dmad_proto_dev_remove_rep *rep = NULL;
	uint32_t n = 0;

	if (c && status == 0) {
		/* The reply must fit one message; the log has every move regardless. */
		n = RTE_MIN(r->nmoved, (uint32_t)((DMAD_PROTO_MSG_MAX -
						   sizeof(struct dmad_proto_hdr) - sizeof(*rep)) /
						  sizeof(struct dmad_proto_moved)));
		rep = calloc(1, sizeof(*rep) + n * sizeof(struct dmad_proto_moved));
	}
	if (rep) {
		struct dmad_proto_moved *m = (struct dmad_proto_moved *)(rep + 1);

		rep->drain_us = r->drain_us;
		rep->max_stall_us = r->max_stall_us;
		rep->nmoved = n;
		rep->timed_out = r->timed_out;
		for (uint32_t i = 0; i < n; i++) {
			snprintf(m[i].to, sizeof(m[i].to), "%s", r->moved[i].to);
			m[i].stall_us = r->moved[i].stall_us;
			m[i].client_id = r->moved[i].owner_id;
			m[i].chan_id = r->moved[i].chan_id;
		}
		client_send(c, DMAD_PROTO_DEV_REMOVE, p->seq, 0, rep,
			    sizeof(*rep) + n * sizeof(struct dmad_proto_moved), NULL, 0);
	} else if (c && status != -ECANCELED) {
		client_send(c, DMAD_PROTO_DEV_REMOVE, p->seq, status ? status : -ENOMEM, NULL, 0,
			    NULL, 0);
	}
	free(rep);
	free(p);
}

static int on_dev_remove(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_dev_remove_req *req = rq->body;
	struct pending_reply *p;
	int ret;

	if (!name_ok(req->name, sizeof(req->name)))
		return -EBADMSG;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct pending_reply){c->id, rq->h->seq};
	/* The reply goes out when the device is released (removed()). */
	ret = hotplug_remove(req->name, req->timeout_ms, removed, p);
	if (ret < 0)
		free(p);
	rep->later = ret == 0;
	return ret;
}

static int on_dev_add(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_dev_add_req *req = rq->body;
	struct dmad_proto_dev_add_rep *ar;
	char why[DMAD_PROTO_ERROR_MAX];
	int ret;

	(void)c;
	if (!name_ok(req->devargs, sizeof(req->devargs)))
		return -EBADMSG;
	ar = client_rep_body(rep, sizeof(*ar));
	ret = hotplug_add(req->devargs, ar->name, &ar->moved, why, sizeof(why));
	if (ret < 0 && why[0])
		return client_rep_error(rep, ret, "%s", why);
	return ret;
}

static int on_dev_fault(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_dev_fault_req *req = rq->body;

	(void)c, (void)rep;
	if (!name_ok(req->name, sizeof(req->name)))
		return -EBADMSG;
	if (!dmad.cfg.fault_injection)
		return -EPERM; /* only a daemon started with --fault-injection takes faults */
	return hotplug_fault(req->name, req->fault);
}

static int on_log_level(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_log_level_req *req = rq->body;
	const struct log_about about = {.client_pid = c->cred.pid, .event = "log-level"};

	(void)rep;
	if (req->rsvd)
		return -EBADMSG;
	if (req->level > LOG_DEBUG)
		return -EINVAL;
	/* Logged under the more verbose of the old and new levels: the change
	 * shows in the log whichever way it goes. */
	if ((int)req->level > log_max_level)
		log_max_level = (int)req->level;
	log_about_printf(LOG_NOTICE, 0, &about, "log level set to %s by client %u (pid %d)",
			 log_level_name((int)req->level), c->id, (int)c->cred.pid);
	log_max_level = (int)req->level;
	return 0;
}

static int on_reset_failed(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_reset_failed_req *req = rq->body;
	const struct log_about about = {
		.device = req->name[0] ? req->name : NULL,
		.client_pid = c->cred.pid,
		.event = "reset-failed",
	};
	int n;

	(void)rep;
	if (strnlen(req->name, sizeof(req->name)) == sizeof(req->name))
		return -EBADMSG;
	n = retired_reset(req->name[0] ? req->name : NULL);
	if (n < 0)
		return n;
	handover_live_dirty(); /* the records are the state's */
	/* Every record, with no name: the gone clients' too. */
	if (!req->name[0])
		log_about_printf(LOG_NOTICE, 0, &about,
				 "%d gone client record(s) cleared by client %u",
				 retired_clients_reset(), c->id);
	log_about_printf(LOG_NOTICE, 0, &about, "%d released device record(s) cleared by client %u",
			 n, c->id);
	return 0;
}

/*
 * Answered first, then the control loop stops and every session is handed
 * to the dmad this one execs (handover.h). Not while a removal drains: its
 * channels are off every device, and its asker waits for an answer.
 */
static int on_restart(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	struct timespec ts;

	(void)rq, (void)rep;
	for (unsigned i = 0; i < dmad.ndev; i++)
		if (dmad.devs[i]->removal)
			return -EBUSY;
	if (!handover_possible())
		return -ENOEXEC;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	dmad.restart_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	dmad.restart = true;
	log_notice("restart asked by client %u (pid %d)", c->id, (int)c->cred.pid);
	return 0;
}

#define BODY(type) sizeof(struct type)

/* What each request must be; client_wire.c checks it before the handler runs. */
static const struct client_req_type requests[] = {
	{DMAD_PROTO_HELLO, "hello", BODY(dmad_proto_hello_req), 0, false, on_hello},
	{DMAD_PROTO_REGION_REG, "region-register", BODY(dmad_proto_region_reg_req), 1, false,
	 on_region_reg},
	{DMAD_PROTO_REGION_UNREG, "region-unregister", BODY(dmad_proto_region_unreg_req), 0, false,
	 on_region_unreg},
	{DMAD_PROTO_CHAN_GET, "channel-get", BODY(dmad_proto_chan_get_req), 0, false, on_chan_get},
	{DMAD_PROTO_CHAN_PUT, "channel-put", BODY(dmad_proto_chan_put_req), 0, false, on_chan_put},
	{DMAD_PROTO_RX_OPEN, "rx-open", BODY(dmad_proto_rx_open_req), 0, false, rx_open},
	{DMAD_PROTO_RX_CLOSE, "rx-close", BODY(dmad_proto_rx_close_req), 0, false, rx_close},
	{DMAD_PROTO_FLOWS, "flows", 0, 0, false, rx_flows},
	{DMAD_PROTO_STATUS, "status", 0, 0, false, on_status},
	{DMAD_PROTO_MONITOR, "monitor", 0, 0, false, monitor_start},
	{DMAD_PROTO_DEV_REMOVE, "remove", BODY(dmad_proto_dev_remove_req), 0, true, on_dev_remove},
	{DMAD_PROTO_DEV_ADD, "add", BODY(dmad_proto_dev_add_req), 0, true, on_dev_add},
	{DMAD_PROTO_DEV_FAULT, "fault", BODY(dmad_proto_dev_fault_req), 0, true, on_dev_fault},
	{DMAD_PROTO_LOG_LEVEL, "log-level", BODY(dmad_proto_log_level_req), 0, true, on_log_level},
	{DMAD_PROTO_RESET_FAILED, "reset-failed", BODY(dmad_proto_reset_failed_req), 0, true,
	 on_reset_failed},
	{DMAD_PROTO_SHARE_SET, "share-set", BODY(dmad_proto_share_set_req), 0, true, share_on_set},
	{DMAD_PROTO_SHARES, "shares", 0, 0, false, share_on_list},
	{DMAD_PROTO_RESTART, "restart", 0, 0, true, on_restart},
};

const struct client_req_type *client_req_type(uint16_t type)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].type == type)
			return &requests[i];
	return NULL;
}
