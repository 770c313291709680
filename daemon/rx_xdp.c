/* SPDX-License-Identifier: MIT */
/*
 * The XDP program, one per interface that has flows. It is attached with a
 * bpf_link, which the kernel releases when its last fd closes: when the
 * last flow on the interface goes, when dmad exits, and when dmad dies, so
 * a crash leaves nothing attached. Nothing is pinned. rx_sweep() still
 * removes, at start-up, a dmad program attached the old way (netlink) whose
 * owner is gone, e.g. by hand with `ip link set dev X xdp obj ...`.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dmad_xdp.skel.h"
#include "handover_live.h"
#include "log.h"
#include "rx.h"
#include "rx_priv.h"

#define PROG_NAME "dmad_xdp_rx"

struct rx_iface *rx_ifaces;

/*
 * libbpf and libxdp print to stderr by default; their words go to our log
 * at debug level instead, since we log each failure once ourselves.
 */
static int lib_print(const char *lib, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	if (log_max_level < LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	log_debug("%s: %s", lib, buf);
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return lib_print("libbpf", fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return lib_print("libxdp", fmt, ap);
}

/* Native mode where the driver has XDP, SKB (generic) mode otherwise. */
static int attach(struct rx_iface *ifc)
{
	static const struct {
		uint32_t flags, mode;
	} modes[] = {
		{XDP_FLAGS_DRV_MODE, DMAD_RX_XDP_NATIVE},
		{XDP_FLAGS_SKB_MODE, DMAD_RX_XDP_GENERIC},
	};
	int prog = bpf_program__fd(ifc->skel->progs.dmad_xdp_rx), ret = -EOPNOTSUPP;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = modes[i].flags);
		int fd, tries = 0;

		/* A link a crashed dmad left in the fd store holds the interface
		 * until the manager has acted on our FDSTOREREMOVE: wait it out. */
		do {
			fd = bpf_link_create(prog, ifc->ifindex, BPF_XDP, &opts);
			ret = fd < 0 ? -errno : 0;
		} while (rx_busy_again(ret, &tries));
		if (fd >= 0) {
			ifc->link_fd = fd;
			ifc->mode = modes[i].mode;
			handover_live_add(ifc->link_fd, false);
			return 0;
		}
		/* Busy: another program holds the interface; no other mode helps. */
		if (ret == -EBUSY || ret == -EEXIST || ret == -EPERM)
			break;
	}
	return ret;
}

/*
 * The program never reads its owner map, so the kernel would not list it
 * among the program's maps, where rx_sweep() looks: bind it.
 */
static int bind_owner(struct rx_iface *ifc)
{
	return bpf_prog_bind_map(bpf_program__fd(ifc->skel->progs.dmad_xdp_rx),
				 bpf_map__fd(ifc->skel->maps.dmad_owner), NULL) < 0
		       ? -errno
		       : 0;
}

static int load(struct rx_iface *ifc)
{
	uint32_t key = 0, pid = (uint32_t)getpid();
	int ret;

	ifc->skel = dmad_xdp__open_and_load();
	if (!ifc->skel)
		return log_error_errno(-errno, "cannot load the XDP program for %s: %m", ifc->name);
	ifc->map_fd[0] = bpf_map__fd(ifc->skel->maps.dmad_flows);
	ifc->map_fd[1] = bpf_map__fd(ifc->skel->maps.dmad_xsks);
	ifc->map_fd[2] = bpf_map__fd(ifc->skel->maps.dmad_owner);
	for (int i = 0; i < 3; i++)
		handover_live_add(ifc->map_fd[i], false);
	/* Tells rx_sweep() of a later dmad whether this program's owner still runs. */
	ret = bpf_map_update_elem(bpf_map__fd(ifc->skel->maps.dmad_owner), &key, &pid, 0);
	if (ret < 0)
		return -errno;
	ret = bind_owner(ifc);
	if (ret < 0)
		return ret;
	ret = attach(ifc);
	if (ret < 0)
		return log_error_errno(ret, "cannot attach the XDP program to %s: %m", ifc->name);
	log_info("XDP program attached to %s in %s mode", ifc->name,
		 ifc->mode == DMAD_RX_XDP_NATIVE ? "native" : "generic (SKB)");
	return 0;
}

static void iface_free(struct rx_iface *ifc)
{
	handover_live_drop(ifc->link_fd);
	if (ifc->link_fd >= 0)
		close(ifc->link_fd);
	for (int i = 0; i < 3; i++) {
		handover_live_drop(ifc->map_fd[i]);
		if (ifc->own_maps && ifc->map_fd[i] >= 0)
			close(ifc->map_fd[i]);
	}
	dmad_xdp__destroy(ifc->skel);
	free(ifc);
}

int rx_iface_get(const char *name, struct rx_iface **ret_ifc)
{
	struct rx_iface *ifc;
	int ifindex, ret;

	for (ifc = rx_ifaces; ifc; ifc = ifc->next) {
		if (!strcmp(ifc->name, name)) {
			ifc->nsocks++;
			*ret_ifc = ifc;
			return 0;
		}
	}
	ifindex = (int)if_nametoindex(name);
	if (!ifindex)
		return -ENXIO;
	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return -ENOMEM;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = ifindex;
	ifc->link_fd = ifc->map_fd[0] = ifc->map_fd[1] = ifc->map_fd[2] = -1;
	ret = load(ifc);
	if (ret < 0) {
		iface_free(ifc);
		return ret;
	}
	ifc->nsocks = 1;
	ifc->next = rx_ifaces;
	rx_ifaces = ifc;
	*ret_ifc = ifc;
	return 0;
}

void rx_iface_put(struct rx_iface *ifc)
{
	struct rx_iface **pp = &rx_ifaces;

	if (--ifc->nsocks)
		return;
	while (*pp != ifc)
		pp = &(*pp)->next;
	*pp = ifc->next;
	log_info("XDP program detached from %s", ifc->name);
	iface_free(ifc);
}

int rx_iface_set_xsk(struct rx_iface *ifc, uint32_t queue, int xsk_fd)
{
	int map = bpf_map__fd(ifc->skel->maps.dmad_xsks);

	if (xsk_fd < 0)
		return bpf_map_delete_elem(map, &queue) < 0 ? -errno : 0;
	return bpf_map_update_elem(map, &queue, &xsk_fd, 0) < 0 ? -errno : 0;
}

int rx_iface_add_flow(struct rx_iface *ifc, const struct rx_flow *f)
{
	struct dmad_rx_flow_key key = {.port = f->port, .proto = f->proto};
	struct dmad_rx_flow_val val = {.queue = f->queue, .flow_id = f->id};

	/* NOEXIST: the map is what makes a port one flow's per interface. */
	if (bpf_map_update_elem(bpf_map__fd(ifc->skel->maps.dmad_flows), &key, &val, BPF_NOEXIST) <
	    0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	return 0;
}

int rx_iface_keep_flow(struct rx_iface *ifc, const struct rx_flow *f)
{
	struct dmad_rx_flow_key key = {.port = f->port, .proto = f->proto};
	struct dmad_rx_flow_val val = {.queue = f->queue, .flow_id = f->id};

	return bpf_map_update_elem(bpf_map__fd(ifc->skel->maps.dmad_flows), &key, &val, BPF_ANY) < 0
		       ? -errno
		       : 0;
}

void rx_iface_del_flow(struct rx_iface *ifc, const struct rx_flow *f)
{
	struct dmad_rx_flow_key key = {.port = f->port, .proto = f->proto};

	bpf_map_delete_elem(bpf_map__fd(ifc->skel->maps.dmad_flows), &key);
}

/* The pid in a dmad program's owner map, 0 if it has none. */
static uint32_t owner_of(const struct bpf_prog_info *info, const uint32_t *map_ids)
{
	uint32_t owner = 0;

	for (uint32_t i = 0; i < info->nr_map_ids; i++) {
		struct bpf_map_info mi = {0};
		uint32_t len = sizeof(mi), key = 0;
		int fd = bpf_map_get_fd_by_id(map_ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &len) && !strcmp(mi.name, "dmad_owner"))
			bpf_map_lookup_elem(fd, &key, &owner);
		close(fd);
	}
	return owner;
}

/* Is @id a dmad program nobody runs any more? */
static bool stale(uint32_t id, int *ret_fd)
{
	uint32_t map_ids[16];
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info), owner;
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || strcmp(info.name, PROG_NAME)) {
		close(fd);
		return false;
	}
	if (info.nr_map_ids > sizeof(map_ids) / sizeof(map_ids[0]))
		info.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	owner = owner_of(&info, map_ids);
	/* kill(0) fails with ESRCH only when no such process exists. */
	if (owner &&
	    (owner == (uint32_t)getpid() || kill((pid_t)owner, 0) == 0 || errno != ESRCH)) {
		close(fd);
		return false;
	}
	*ret_fd = fd;
	return true;
}

/* REPLACE: detach only the program we looked at, not one attached since. */
static void detach_stale(const struct if_nameindex *it, uint32_t mode_flags, int prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd);

	if (bpf_xdp_detach((int)it->if_index, mode_flags | XDP_FLAGS_REPLACE, &opts) < 0)
		log_warning_errno(-errno, "cannot remove a stale dmad XDP program from %s: %m",
				  it->if_name);
	else
		log_notice("removed a stale dmad XDP program from %s", it->if_name);
}

static void sweep_one(const struct if_nameindex *it)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const struct {
		uint32_t *id;
		uint32_t flags;
	} modes[] = {{&q.drv_prog_id, XDP_FLAGS_DRV_MODE}, {&q.skb_prog_id, XDP_FLAGS_SKB_MODE}};

	if (bpf_xdp_query((int)it->if_index, 0, &q) < 0)
		return;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int fd;

		if (*modes[i].id && stale(*modes[i].id, &fd)) {
			detach_stale(it, modes[i].flags, fd);
			close(fd);
		}
	}
}

void rx_lib_log(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

void rx_sweep(void)
{
	struct if_nameindex *all;

	rx_lib_log();
	all = if_nameindex();

	if (!all)
		return;
	for (struct if_nameindex *it = all; it->if_index; it++)
		sweep_one(it);
	if_freenameindex(all);
}

/* Is @link_fd an XDP link on @ifindex? */
static bool xdp_link_on(int link_fd, int ifindex)
{
	struct bpf_link_info info = {0};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(link_fd, &info, &len) == 0 &&
	       info.type == BPF_LINK_TYPE_XDP && (int)info.xdp.ifindex == ifindex;
}

/* This dmad's program, on the maps the dmad before it filled. libbpf
 * refuses a map of another type or size at load. */
static int load_on(struct rx_iface *ifc, int flows_fd, int xsks_fd, int owner_fd)
{
	uint32_t key = 0, pid = (uint32_t)getpid();

	ifc->skel = dmad_xdp__open();
	if (!ifc->skel)
		return -errno;
	if (bpf_map__reuse_fd(ifc->skel->maps.dmad_flows, flows_fd) < 0 ||
	    bpf_map__reuse_fd(ifc->skel->maps.dmad_xsks, xsks_fd) < 0 ||
	    bpf_map__reuse_fd(ifc->skel->maps.dmad_owner, owner_fd) < 0 ||
	    dmad_xdp__load(ifc->skel) < 0)
		return -EBADF;
	if (bpf_map_update_elem(bpf_map__fd(ifc->skel->maps.dmad_owner), &key, &pid, 0) < 0 ||
	    bind_owner(ifc) < 0)
		return -errno;
	/* The link stays attached throughout: no datagram goes to the stack. */
	if (bpf_link_update(ifc->link_fd, bpf_program__fd(ifc->skel->progs.dmad_xdp_rx), NULL) < 0)
		return -errno;
	return 0;
}

int rx_iface_adopt(const char *name, uint32_t mode, int link_fd, int flows_fd, int xsks_fd,
		   int owner_fd, struct rx_iface **ret_ifc)
{
	struct rx_iface *ifc = calloc(1, sizeof(*ifc));
	int ret = ifc ? 0 : -ENOMEM;

	if (ifc) {
		snprintf(ifc->name, sizeof(ifc->name), "%s", name);
		ifc->ifindex = (int)if_nametoindex(name);
		ifc->link_fd = link_fd;
		ifc->mode = mode;
		/* Kept, not the skeleton's copies: the fd store has these. */
		ifc->map_fd[0] = flows_fd;
		ifc->map_fd[1] = xsks_fd;
		ifc->map_fd[2] = owner_fd;
		ifc->own_maps = true;
		handover_live_add(link_fd, false);
		for (int i = 0; i < 3; i++)
			handover_live_add(ifc->map_fd[i], false);
		if (!ifc->ifindex)
			ret = -ENXIO;
		else if (!xdp_link_on(link_fd, ifc->ifindex))
			ret = -EBADF;
		else
			ret = load_on(ifc, flows_fd, xsks_fd, owner_fd);
	} else {
		close(link_fd);
		close(flows_fd);
		close(xsks_fd);
		close(owner_fd);
	}
	if (ret < 0) {
		if (ifc)
			iface_free(ifc);
		return ret;
	}
	ifc->nsocks = 1;
	ifc->next = rx_ifaces;
	rx_ifaces = ifc;
	*ret_ifc = ifc;
	return 0;
}

static bool flow_here(const struct rx_iface *ifc, const struct dmad_rx_flow_key *k)
{
	for (const struct rx_flow *f = rx_all_flows; f; f = f->next)
		if (f->sock->ifc == ifc && !f->closing && f->port == k->port &&
		    f->proto == k->proto)
			return true;
	return false;
}

void rx_iface_prune(struct rx_iface *ifc)
{
	int flows = bpf_map__fd(ifc->skel->maps.dmad_flows);
	struct dmad_rx_flow_key k, next, gone[DMAD_RX_MAX_FLOWS];
	unsigned ngone = 0;
	void *prev = NULL;

	while (ngone < DMAD_RX_MAX_FLOWS && bpf_map_get_next_key(flows, prev, &next) == 0) {
		if (!flow_here(ifc, &next))
			gone[ngone++] = next;
		k = next;
		prev = &k;
	}
	for (unsigned i = 0; i < ngone; i++)
		bpf_map_delete_elem(flows, &gone[i]);
	for (uint32_t q = 0; q < DMAD_RX_MAX_QUEUES; q++) {
		bool used = false;

		for (const struct rx_sock *s = rx_socks; s; s = s->next)
			used |= s->ifc == ifc && s->queue == q;
		if (!used)
			rx_iface_set_xsk(ifc, q, -1);
	}
}
