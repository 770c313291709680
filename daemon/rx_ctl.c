/* SPDX-License-Identifier: MIT */
/*
 * Receive offload requests: RX_OPEN, RX_CLOSE, FLOWS, and the flows' part in
 * a client's going away and in the daemon's shutdown. Every field of a
 * request is checked here, each refusal with its own errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "log.h"
#include "rx.h"
#include "rx_priv.h"

#define MAX_FLOWS_PER_CLIENT 16
#define SHUTDOWN_WAIT_MS     2000

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static bool is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/*
 * Has a socket in dmad's network namespace UDP @port as its own, on any
 * address, bound or connected? As the kernel lists them: reading has no
 * effect on anyone (a probing bind() would hold the port meanwhile).
 * Flows bind nothing, so they are not seen here.
 */
static bool port_bound(uint16_t port)
{
	static const char *const tables[] = {"/proc/self/net/udp", "/proc/self/net/udp6"};
	char line[512];
	bool bound = false;

	for (size_t i = 0; i < 2 && !bound; i++) {
		FILE *f = fopen(tables[i], "re");
		unsigned p;

		/* "   0: 0100007F:1388 ...": the local port is the hex after the address. */
		while (f && !bound && fgets(line, sizeof(line), f))
			bound = sscanf(line, "%*u: %*[0-9A-Fa-f]:%x", &p) == 1 && p == port;
		if (f)
			fclose(f);
	}
	return bound;
}

static int check_spec(struct client *c, const struct dmad_proto_rx_open_req *req,
		      struct rx_flow_spec *spec)
{
	unsigned mine = 0;

	if (strnlen(req->ifname, sizeof(req->ifname)) >= sizeof(req->ifname) || !req->ifname[0])
		return -EINVAL;
	if (req->proto != DMAD_RX_UDP)
		return -EPROTONOSUPPORT;
	if (!req->port || req->rsvd0 || (req->flags & ~DMAD_RX_OPEN_F_COPYBREAK))
		return -EINVAL;
	if (!is_pow2(req->slot_count) || req->slot_count > DMAD_RX_SLOTS_MAX)
		return -EINVAL;
	if (req->slot_size < DMAD_RX_SLOT_MIN || req->slot_size > DMAD_RX_SLOT_MAX)
		return -EMSGSIZE;
	if ((uint64_t)req->slot_count * dmad_rx_stride(req->slot_size) > DMAD_RX_AREA_MAX)
		return -EDQUOT;
	if (req->queue >= DMAD_RX_MAX_QUEUES)
		return -ENXIO;
	/* As for bind(): the well-known ports are the administrator's. */
	if (req->port < 1024 && !c->admin)
		return -EACCES;
	for (struct rx_flow *f = rx_all_flows; f; f = f->next) {
		if (f->closing)
			continue;
		if (f->owner == c)
			mine++;
		if (f->port == req->port && f->proto == req->proto &&
		    !strcmp(f->sock->ifc->name, req->ifname))
			return -EADDRINUSE;
	}
	if (mine >= MAX_FLOWS_PER_CLIENT)
		return -EDQUOT;
	/* A flow takes the datagrams before the stack does: on a port that a
	 * socket has bound, that socket's, whoever it is. bind() would refuse
	 * it, so a client does too; an admin may take them knowingly. */
	if (!c->admin && port_bound(req->port))
		return -EADDRINUSE;

	*spec = (struct rx_flow_spec){
		.ifname = req->ifname,
		.queue = req->queue,
		.port = req->port,
		.proto = req->proto,
		.copybreak_set = req->flags & DMAD_RX_OPEN_F_COPYBREAK,
		.copybreak = req->copybreak,
		.slot_size = req->slot_size,
		.slot_count = req->slot_count,
	};
	return 0;
}

int rx_open(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_rx_open_req *req = rq->body;
	struct dmad_proto_rx_open_rep *orep;
	struct rx_flow_spec spec;
	struct rx_flow *f;
	int ret;

	ret = check_spec(c, req, &spec);
	if (ret < 0)
		return ret;
	ret = rx_flow_create(c, &spec, &f);
	if (ret == -EPERM || ret == -EACCES)
		return log_error_errno(-EPERM,
				       "cannot receive on %s: dmad needs CAP_NET_ADMIN and CAP_BPF",
				       spec.ifname);
	if (ret < 0)
		return ret;

	orep = client_rep_body(rep, sizeof(*orep));
	orep->area_size = f->area->size;
	orep->flow_id = f->id;
	orep->copybreak = f->copybreak;
	orep->xdp_mode = f->sock->ifc->mode;
	if (f->ch->dev)
		snprintf(orep->device, sizeof(orep->device), "%s", f->ch->dev->name);
	/* Should the reply not go out, the client is dropped, and its flows with it. */
	rep->fds[0] = f->area_fd;
	rep->fds[1] = f->efd;
	rep->nfds = 2;
	log_info(
		"client %u: flow %u on %s queue %u udp port %u, %u slots of %u bytes, copies on %s",
		c->id, f->id, spec.ifname, f->queue, f->port, f->slot_count, f->slot_size,
		f->ch->dev ? f->ch->dev->name : "cpu");
	return 0;
}

static struct rx_flow *find(const struct client *c, uint32_t id)
{
	for (struct rx_flow *f = rx_all_flows; f; f = f->next)
		if (f->owner == c && f->id == id && !f->closing)
			return f;
	return NULL;
}

int rx_flow_fds(const struct client *c, uint32_t flow_id, int fds[2])
{
	struct rx_flow *f = find(c, flow_id);

	if (!f)
		return -ENOENT;
	fds[0] = f->area_fd;
	fds[1] = f->efd;
	return 0;
}

int rx_close(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	const struct dmad_proto_rx_close_req *req = rq->body;
	struct rx_flow *f = find(c, req->flow_id);

	(void)rep;
	if (!f)
		return -EINVAL;
	rx_flow_close(f);
	return 0;
}

static void flow_info(const struct rx_flow *f, struct dmad_proto_flow_info *fi)
{
	uint32_t head = LOAD(f->area->head), published = LOAD(f->published);

	memset(fi, 0, sizeof(*fi));
	snprintf(fi->ifname, sizeof(fi->ifname), "%s", f->sock->ifc->name);
	if (f->ch->dev)
		snprintf(fi->device, sizeof(fi->device), "%s", f->ch->dev->name);
	fi->stats.packets = LOAD(f->st.packets);
	fi->stats.bytes = LOAD(f->st.bytes);
	fi->stats.drop_no_slot = LOAD(f->st.drop_no_slot);
	fi->stats.drop_too_large = LOAD(f->st.drop_too_large);
	fi->stats.drop_dma_error = LOAD(f->st.drop_dma_error);
	fi->stats.dma_copies = LOAD(f->st.dma_copies);
	fi->stats.cpu_copies = LOAD(f->st.cpu_copies);
	fi->stats.kernel_drops = rx_sock_kernel_drops(f->sock);
	fi->client_id = f->owner->id;
	fi->flow_id = f->id;
	fi->queue = f->queue;
	fi->port = f->port;
	fi->proto = f->proto;
	fi->xdp_mode = (uint8_t)f->sock->ifc->mode;
	fi->slot_size = f->slot_size;
	fi->slot_count = f->slot_count;
	/* The client writes head: show what it claims only when it is possible. */
	fi->held = published - head <= f->slot_count ? published - head : f->slot_count;
}

void rx_drops_report(void)
{
	for (struct rx_flow *f = rx_all_flows; f; f = f->next) {
		uint64_t drops = LOAD(f->st.drop_no_slot) + LOAD(f->st.drop_too_large) +
				 LOAD(f->st.drop_dma_error);

		if (drops == f->drops_reported)
			continue;
		events_emit(&(struct event){.type = EVENT_FLOW_DROPS,
					    .client = f->owner,
					    .flow_id = f->id,
					    .count = drops - f->drops_reported});
		f->drops_reported = drops;
	}
}

int rx_flows(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	static uint8_t body[DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr)];
	struct dmad_proto_flows *fl = (struct dmad_proto_flows *)body;
	size_t off = sizeof(*fl);

	(void)rq;
	memset(fl, 0, sizeof(*fl));
	/* Open to every client; other clients' flows only to admins. */
	if (!c->admin)
		fl->flags |= DMAD_PROTO_LIST_OWN_ONLY;
	for (struct rx_flow *f = rx_all_flows; f; f = f->next) {
		if (f->closing || (!c->admin && f->owner != c))
			continue;
		if (off + sizeof(struct dmad_proto_flow_info) > sizeof(body)) {
			fl->flags |= DMAD_PROTO_LIST_TRUNCATED;
			break;
		}
		flow_info(f, (struct dmad_proto_flow_info *)(body + off));
		off += sizeof(struct dmad_proto_flow_info);
		fl->nflow++;
	}
	rep->body = body;
	rep->len = (uint32_t)off;
	return 0;
}

void rx_client_close(struct client *c)
{
	for (struct rx_flow *f = rx_all_flows; f; f = f->next)
		if (f->owner == c)
			rx_flow_close(f);
}

bool rx_reap(struct client *c)
{
	struct rx_flow *f = rx_all_flows, *next;
	bool none = true;

	for (; f; f = next) {
		next = f->next;
		if (f->owner == c && !(f->closing && rx_flow_reap(f)))
			none = false;
	}
	return none;
}

void rx_shutdown(void)
{
	struct timespec ms = {0, 1000000};

	for (struct rx_flow *f = rx_all_flows; f; f = f->next)
		rx_flow_close(f);
	/* The workers still run: what is on an engine lands within the bound. */
	for (int i = 0; rx_all_flows && i < SHUTDOWN_WAIT_MS; i++) {
		struct rx_flow *f = rx_all_flows, *next;

		for (; f; f = next) {
			next = f->next;
			rx_flow_reap(f);
		}
		if (rx_all_flows)
			nanosleep(&ms, NULL);
	}
	if (rx_all_flows)
		log_error("some flows' copies did not complete in %d ms; leaving them",
			  SHUTDOWN_WAIT_MS);
}
