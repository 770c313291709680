/* SPDX-License-Identifier: MIT */
/*
 * The handover state's settings, totals and flows part (handover_ext.h),
 * damaged every way a record can be: each refused by the parse with its
 * reason. And the fd kinds of that part told apart by what the kernel says
 * of each fd (an AF_XDP socket, dmad's sealed memfds, an eventfd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handover_state.h"
#include "tap.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

#define NFDS 11 /* client, listen, link, 3 maps, xsk, umem, area, event, second area */

/*
 * One client with settings, a uid, a released device, a gone client, and
 * two flows on one AF_XDP socket of one interface. Fd numbers are made up
 * (the parse touches no fd): 100 + entry.
 */
static void *good_state(size_t *ret_len)
{
	const struct handover_ext_counts x = {.nclients = 1,
					      .nuids = 1,
					      .nreleased = 1,
					      .ngone = 1,
					      .nrxifs = 1,
					      .nrxsocks = 1,
					      .nrxflows = 2};
	static const uint32_t kinds[NFDS] = {
		HANDOVER_FD_CLIENT,   HANDOVER_FD_LISTEN,  HANDOVER_FD_BPF_LINK,
		HANDOVER_FD_BPF_MAP,  HANDOVER_FD_BPF_MAP, HANDOVER_FD_BPF_MAP,
		HANDOVER_FD_XSK,      HANDOVER_FD_UMEM,	   HANDOVER_FD_RX_AREA,
		HANDOVER_FD_RX_EVENT, HANDOVER_FD_RX_AREA};
	size_t len = handover_state_size_ext(1, 0, 0, 0, NFDS + 1, &x);
	uint8_t *buf = calloc(1, len);
	struct handover_view v;
	struct handover_fd *t;
	struct handover_ext *e;

	handover_state_init_ext(buf, 1, 0, 0, 0, NFDS + 1, &x, &v);
	((struct handover_hdr *)v.h)->listen_fd = 1;
	*(struct handover_client *)v.clients =
		(struct handover_client){.id = 3, .sock = 0, .name = "receiver"};
	e = (struct handover_ext *)v.ext.e;
	e->next_flow_id = 9;
	e->ops = 1000;
	*(struct handover_client_ext *)v.ext.clients = (struct handover_client_ext){
		.weight = 7, .flags = HANDOVER_CLIENT_WEIGHT_OWN, .rate = 1 << 20};
	*(struct handover_uid *)v.ext.uids = (struct handover_uid){.uid = 4242, .rate = 64 << 20};
	*(struct dmad_proto_released *)v.ext.released = (struct dmad_proto_released){
		.name = "dma_skeleton1", .state = DMAD_PROTO_DEV_REMOVED, .ops = 5};
	*(struct dmad_proto_gone_client *)v.ext.gone =
		(struct dmad_proto_gone_client){.name = "copier", .client_id = 2, .ops = 12};
	*(struct handover_rxif *)v.ext.rxifs = (struct handover_rxif){.name = "dmrx0",
								      .link = 2,
								      .flows_map = 3,
								      .xsks_map = 4,
								      .owner_map = 5,
								      .mode = 1};
	*(struct handover_rxsock *)v.ext.rxsocks =
		(struct handover_rxsock){.iface = 0, .queue = 3, .xsk = 6, .umem = 7};
	((struct handover_rxflow *)v.ext.rxflows)[0] =
		(struct handover_rxflow){.client = 0,
					 .id = 4,
					 .sock = 0,
					 .port = 7000,
					 .proto = DMAD_RX_UDP,
					 .slot_size = 2048,
					 .slot_count = 64,
					 .area = 8,
					 .event = 9,
					 .tail = 123};
	((struct handover_rxflow *)v.ext.rxflows)[1] =
		(struct handover_rxflow){.client = 0,
					 .id = 9,
					 .sock = 0,
					 .port = 7001,
					 .proto = DMAD_RX_UDP,
					 .slot_size = 64,
					 .slot_count = 1,
					 .area = 10,
					 .event = 11};
	t = (struct handover_fd *)v.fds;
	for (uint32_t i = 0; i < NFDS; i++)
		t[i] = (struct handover_fd){kinds[i], (int32_t)(100 + i)};
	t[NFDS] = (struct handover_fd){HANDOVER_FD_RX_EVENT, 100 + NFDS};
	*ret_len = len;
	return buf;
}

/* A fresh good state with @edit applied: refused by the parse? */
#define REFUSED(edit)                                                                        \
	({                                                                                   \
		size_t len_;                                                                 \
		uint8_t *b_ = good_state(&len_);                                             \
		struct handover_view v_;                                                     \
		const char *why_ = NULL;                                                     \
		handover_state_parse(b_, len_, &v_, &why_);                                  \
		{                                                                            \
			struct handover_ext *e = (void *)v_.ext.e;                           \
			struct handover_client_ext *cx = (void *)v_.ext.clients;             \
			struct handover_uid *u = (void *)v_.ext.uids;                        \
			struct dmad_proto_released *rd = (void *)v_.ext.released;            \
			struct dmad_proto_gone_client *gc = (void *)v_.ext.gone;             \
			struct handover_rxif *ifc = (void *)v_.ext.rxifs;                    \
			struct handover_rxsock *so = (void *)v_.ext.rxsocks;                 \
			struct handover_rxflow *fl = (void *)v_.ext.rxflows;                 \
			struct handover_fd *fd = (void *)v_.fds;                             \
			(void)e, (void)cx, (void)u, (void)rd, (void)gc, (void)ifc, (void)so; \
			(void)fl, (void)fd;                                                  \
			edit;                                                                \
		}                                                                            \
		int r_ = handover_state_parse(b_, len_, &v_, &why_);                         \
		if (r_ < 0)                                                                  \
			tap_diag("refused: %s", why_);                                       \
		free(b_);                                                                    \
		r_ == -EINVAL &&why_;                                                        \
	})

static int sealed_memfd(const char *name, int seals)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, 4096) < 0 || fcntl(fd, F_ADD_SEALS, seals) < 0)
		tap_bail("memfd: %m");
	return fd;
}

static void fd_kinds(void)
{
	const int fixed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	int area = sealed_memfd("dmad-rx", fixed), umem = sealed_memfd("dmad-umem", fixed);
	int ring = sealed_memfd("dmad-ring", fixed), loose = sealed_memfd("dmad-rx", F_SEAL_SHRINK);
	int efd = eventfd(0, EFD_CLOEXEC), xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	int unix_sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	tap_ok(!handover_ext_fd_wrong(area, HANDOVER_FD_RX_AREA) &&
		       !handover_ext_fd_wrong(umem, HANDOVER_FD_UMEM) &&
		       !handover_ext_fd_wrong(efd, HANDOVER_FD_RX_EVENT),
	       "a sealed dmad-rx memfd, a sealed dmad-umem memfd and an eventfd pass as such");
	tap_ok(handover_ext_fd_wrong(ring, HANDOVER_FD_RX_AREA) &&
		       handover_ext_fd_wrong(loose, HANDOVER_FD_RX_AREA) &&
		       handover_ext_fd_wrong(area, HANDOVER_FD_UMEM) &&
		       handover_ext_fd_wrong(area, HANDOVER_FD_RX_EVENT),
	       "a ring's memfd, an area that can still grow, an area as a UMEM or an eventfd: "
	       "refused");
	if (xsk >= 0)
		tap_ok(!handover_ext_fd_wrong(xsk, HANDOVER_FD_XSK) &&
			       handover_ext_fd_wrong(efd, HANDOVER_FD_XSK) &&
			       handover_ext_fd_wrong(unix_sock, HANDOVER_FD_XSK),
		       "an AF_XDP socket passes as one; an eventfd or an AF_UNIX socket does not");
	else
		tap_skip("no AF_XDP socket here (%m)");
	tap_ok(handover_ext_fd_wrong(efd, HANDOVER_FD_BPF_LINK) &&
		       handover_ext_fd_wrong(efd, HANDOVER_FD_BPF_MAP) &&
		       handover_ext_fd_wrong(efd, HANDOVER_FD_KIND_MAX + 1),
	       "an eventfd as a bpf_link, a BPF map or an unknown kind: refused");
	close(area), close(umem), close(ring), close(loose), close(efd), close(unix_sock);
	if (xsk >= 0)
		close(xsk);
}

int main(void)
{
	struct handover_view v;
	const char *why = NULL;
	size_t len, cut;
	uint8_t *buf;

	tap_plan(29);
	buf = good_state(&len);
	tap_ok(handover_state_parse(buf, len, &v, &why) == 0 && v.ext.e->nrxflows == 2 &&
		       v.ext.rxflows[0].tail == 123 && v.ext.clients[0].weight == 7 &&
		       v.ext.e->ops == 1000,
	       "a state with settings, totals and two flows parses (%s)", why ? why : "ok");
	for (cut = 0; cut < len; cut++)
		if (handover_state_parse(buf, cut, &v, &why) != -EINVAL)
			break;
	tap_ok(cut == len, "cut short at every length from 0 to %zu: refused", len - 1);
	free(buf);

	tap_ok(REFUSED(e->rxflow_size = 112), "a flow record of another size: refused");
	tap_ok(REFUSED(e->nrxflows = 3), "flow counts that do not add up: refused");
	tap_ok(REFUSED(e->nreleased = DMAD_PROTO_RELEASED_MAX + 1),
	       "more released devices than dmad keeps: refused");
	tap_ok(REFUSED(cx->weight = DMAD_PROTO_SHARE_WEIGHT_MAX + 1),
	       "a client weight out of range: refused");
	tap_ok(REFUSED(cx->rate = HANDOVER_RATE_MAX + 1), "a client rate out of range: refused");
	tap_ok(REFUSED(cx->flags = 2), "client flags this version does not know: refused");
	tap_ok(REFUSED(u->weight = DMAD_PROTO_SHARE_WEIGHT_MAX + 1),
	       "a uid weight out of range: refused");
	tap_ok(REFUSED(rd->state = DMAD_PROTO_DEV_ONLINE),
	       "a released device still online: refused");
	tap_ok(REFUSED(memset(gc->name, 'x', sizeof(gc->name))),
	       "a gone client's name without its NUL: refused");
	tap_ok(REFUSED(so->queue = DMAD_RX_MAX_QUEUES),
	       "an AF_XDP socket's queue out of range: refused");
	tap_ok(REFUSED(so->iface = 1), "an AF_XDP socket of an interface out of range: refused");
	tap_ok(REFUSED(fd[6].kind = HANDOVER_FD_RX_EVENT),
	       "an AF_XDP socket's entry of the eventfd kind: refused");
	tap_ok(REFUSED(so->umem = so->xsk), "one entry as socket and UMEM: refused");
	tap_ok(REFUSED(ifc->xsks_map = ifc->flows_map), "one map entry for two maps: refused");
	tap_ok(REFUSED(ifc->mode = 3), "an XDP mode this version does not know: refused");
	tap_ok(REFUSED(ifc->name[0] = '\0'), "an interface without a name: refused");
	tap_ok(REFUSED(fl[1].port = 7000), "two flows on one port of one interface: refused");
	tap_ok(REFUSED(fl[1].id = 4), "two flows with one id: refused");
	tap_ok(REFUSED(fl[1].id = 10), "a flow id past the last one handed out: refused");
	tap_ok(REFUSED(fl[0].client = 1), "a flow of a client out of range: refused");
	tap_ok(REFUSED(fl[0].slot_count = 48), "a slot count not a power of two: refused");
	tap_ok(REFUSED(fl[0].proto = 6), "a flow of another protocol: refused");
	tap_ok(REFUSED(fl[0].area = fl[1].area), "two flows on one area: refused");

	fd_kinds();
	return tap_done();
}
