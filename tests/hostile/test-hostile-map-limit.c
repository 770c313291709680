/* SPDX-License-Identifier: MIT */
/*
 * Many small clients against dmad's limits in all and per user. Once 300
 * clients with 256 regions of 4 KiB each took dmad to vm.max_map_count:
 * then new clients got -ENODEV from a daemon that was alive, `dmactl
 * status` said it was not running, and clients already there got -ENOMEM.
 * Here dmad runs with small limits (--limit, --user-limit, --client-limit)
 * and every request past one gets -EDQUOT, from the library too, while
 * dmad's own mappings stay bounded, `dmactl status` works for root (the
 * admin reserve), a verifying client copies on, and once the clients have
 * gone their counts are back: the same clients fit again.
 *
 * A region unregistered while a copy that uses it is in flight stays
 * mapped until the copy retires, and counts until then: with the engine
 * hung (fault injection) such a region keeps its place in the limit, and
 * gives it back once the watchdog has redone the copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asuser.h"
#include "copier.h"
#include "harness.h"
#include "jsonread.h"
#include "procstat.h"
#include "rawproto.h"

#define MAPS_ALL       180 /* --limit maps */
#define MAPS_USER      100 /* --user-limit maps */
#define CLIENTS_ALL    16
#define CLIENTS_USER   8
#define REGIONS_CLIENT 128 /* --client-limit regions: not what stops anyone here */
#define BYSTANDER_MAPS 3   /* its source and destination regions, its channel */
/* Its regions' memfds, its ring memfd and doorbell (its socket: a client). */
#define BYSTANDER_FDS	4
#define HOLD_MAX	32
#define MAPS_SLACK	64 /* dmad's own mappings may move a little meanwhile */
#define RETURN_MS	3000
#define OTHER_UID	4244
#define ZOMBIE_MAPS	12
#define ZOMBIE_WATCHDOG "3000"

/* What a holder (a process of clients as one user) got. */
struct held {
	unsigned n;
	int32_t hello[HOLD_MAX];
	uint32_t regions[HOLD_MAX];
	int32_t reg_err[HOLD_MAX]; /* why the next region was refused; 0: stopped by choice */
	int32_t lib;		   /* dmac_connect() once these are connected */
	int32_t lib_region;	   /* errno of dmac_region_alloc() on that client, 0: ok */
};

struct holder {
	pid_t pid;
	int release; /* closed: the holder lets go and exits */
	struct held h;
};

/* In the child: @n raw clients, each with up to @regions regions of 4 KiB. */
static void hold_main(const char *socket, unsigned n, unsigned regions, int out, int release)
{
	struct held h = {.n = n};
	struct dmac_client *c = NULL;
	void *map;
	int memfd = raw_memfd(4096, true, &map);
	char byte;

	for (unsigned i = 0; i < n; i++) {
		int fd = raw_connect(socket);
		uint32_t id;

		h.hello[i] = fd < 0 ? fd : raw_hello(fd, "holder");
		for (unsigned k = 0; h.hello[i] == 0 && k < regions; k++) {
			int r = raw_region_reg(fd, memfd, 4096, &id);

			if (r != 0) {
				h.reg_err[i] = r;
				break;
			}
			h.regions[i]++;
		}
		/* A refused connection is closed by dmad: nothing to keep. */
		if (fd >= 0 && h.hello[i] != 0)
			close(fd);
	}
	h.lib = dmac_connect(socket, "holder-lib", &c);
	if (h.lib == 0) {
		h.lib_region = dmac_region_alloc(c, 4096) ? 0 : errno;
		dmac_disconnect(c);
	}
	if (write(out, &h, sizeof(h)) != (ssize_t)sizeof(h))
		_exit(4);
	/* Hold everything until the test says so (or goes). */
	_exit(read(release, &byte, 1) >= 0 ? 0 : 5);
}

static bool hold(struct holder *hd, const char *socket, const struct asuser *u, unsigned n,
		 unsigned regions)
{
	int out[2], rel[2];

	if (pipe(out) < 0 || pipe(rel) < 0)
		tap_bail("pipe: %s", strerror(errno));
	hd->pid = asuser_fork(u);
	if (hd->pid == 0) {
		close(out[0]);
		close(rel[1]);
		hold_main(socket, n, regions, out[1], rel[0]);
	}
	close(out[1]);
	close(rel[0]);
	hd->release = rel[1];
	if (read(out[0], &hd->h, sizeof(hd->h)) != (ssize_t)sizeof(hd->h)) {
		close(out[0]);
		harness_wait_child(hd->pid, 1000, u->what);
		return ok(false, "%s: its clients connected and registered", u->what);
	}
	close(out[0]);
	return true;
}

static void unhold(struct holder *hd, const char *what)
{
	close(hd->release);
	ok(harness_wait_child(hd->pid, 10000, what), "%s let go", what);
}

static unsigned total_regions(const struct held *h, bool *ret_only_edquot)
{
	unsigned sum = 0;

	*ret_only_edquot = true;
	for (unsigned i = 0; i < h->n; i++) {
		sum += h->regions[i];
		if (h->reg_err[i] && h->reg_err[i] != -EDQUOT) {
			tap_diag("client %u: region refused with %d", i, h->reg_err[i]);
			*ret_only_edquot = false;
		}
	}
	return sum;
}

static unsigned hellos_ok(const struct held *h, bool *ret_rest_edquot)
{
	unsigned n = 0;

	*ret_rest_edquot = true;
	for (unsigned i = 0; i < h->n; i++) {
		if (h->hello[i] == 0) {
			n++;
		} else if (h->hello[i] != -EDQUOT) {
			tap_diag("connection %u: HELLO %d", i, h->hello[i]);
			*ret_rest_edquot = false;
		}
	}
	return n;
}

/* dmactl status as @u (NULL: root), stderr folded into @out. */
static int dmactl_status(const char *socket, const struct asuser *u, char *out, size_t size)
{
	char cmd[512];
	char *argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};

	snprintf(cmd, sizeof(cmd), "exec %s --socket %s status 2>&1", harness_env("DMACTL_BIN"),
		 socket);
	return u ? asuser_run(u, argv, out, size, 15000) : harness_run(argv, out, size, 15000);
}

/*
 * What `dmactl --json status` (as root, an admin) says is held of @kind:
 * by @uid (0 when it has no row: a uid without clients holds nothing), or
 * in all when @uid is -1. -1 when it cannot tell.
 */
static long long held(const char *socket, const char *kind, long long uid)
{
	const struct jv *limits;
	long long used = -1;
	struct jv *v;

	if (!(v = harness_status_json(socket)))
		return -1;
	limits = jv_get(v, "limits");
	if (uid >= 0 && limits && limits->n)
		used = 0;
	for (size_t i = 0; limits && i < limits->n; i++) {
		const struct jv *q = jv_at(limits, i), *u = jv_get(q, "uid");

		if (strcmp(jv_str(jv_get(q, "kind"), ""), kind))
			continue;
		if (uid < 0 ? u && u->type == JV_NULL : (long long)jv_num(u, -2) == uid)
			used = (long long)jv_num(jv_get(q, "used"), -1);
	}
	jv_free(v);
	return used;
}

/*
 * Wait until everything but the bystander has been given back: in all,
 * its maps and two clients (it, and the dmactl asking). Deferred frees run
 * on dmad's next tick, or once in-flight copies retire.
 */
static bool settled(const char *socket, const char *what)
{
	int64_t end = harness_now_ms() + RETURN_MS;
	long long maps, clients, fds;

	do {
		maps = held(socket, "maps", -1);
		clients = held(socket, "clients", -1);
		fds = held(socket, "fds", -1);
		if (maps == BYSTANDER_MAPS && clients == 2 && fds == BYSTANDER_FDS + 2)
			break;
		usleep(50000);
	} while (harness_now_ms() < end);
	return ok(maps == BYSTANDER_MAPS && clients == 2 && fds == BYSTANDER_FDS + 2,
		  "%s: counts back to the bystander's (maps %lld, want %d; clients %lld, want 2; "
		  "fds %lld, want %d)",
		  what, maps, BYSTANDER_MAPS, clients, fds, BYSTANDER_FDS + 2);
}

/* Mappings per user and in all: each refused with -EDQUOT, the daemon's own bounded. */
static void check_maps(struct harness_dmad *d, const struct asuser *nobody)
{
	struct procstat before, at_limit;
	struct holder hd;
	bool only_edquot;
	unsigned sum, root_regions = 0;
	void *map;
	uint32_t id;
	int fd, memfd, r = 0;

	procstat_read(d->pid, &before);
	/* Five clients of 30 regions would be 150: the user's 100 stop them. */
	if (!hold(&hd, d->socket, nobody, 5, 30))
		return;
	sum = total_regions(&hd.h, &only_edquot);
	ok(sum == MAPS_USER && only_edquot,
	   "nobody's clients mapped %u regions (want its limit, %d), then -EDQUOT, nothing else",
	   sum, MAPS_USER);
	ok(hd.h.lib == 0 && hd.h.lib_region == EDQUOT,
	   "through the library: dmac_connect %d, then dmac_region_alloc: %s (want EDQUOT)",
	   hd.h.lib, strerror(hd.h.lib_region));

	/* Root is under its own limit; what stops it is the limit in all. */
	fd = raw_connect(d->socket);
	memfd = raw_memfd(4096, true, &map);
	if (fd < 0 || raw_hello(fd, "root-maps") != 0)
		tap_bail("root's client");
	while ((r = raw_region_reg(fd, memfd, 4096, &id)) == 0)
		root_regions++;
	ok(root_regions == MAPS_ALL - MAPS_USER - BYSTANDER_MAPS && r == -EDQUOT,
	   "root's client mapped %u regions (want %d: the limit in all less nobody's and the "
	   "bystander's), then %d (want %d)",
	   root_regions, MAPS_ALL - MAPS_USER - BYSTANDER_MAPS, r, -EDQUOT);
	r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &(struct raw_chan){0});
	ok(r == -EDQUOT, "a channel (a ring mapping) at the limit: %d (want %d)", r, -EDQUOT);

	ok(held(d->socket, "maps", ASUSER_NOBODY) == MAPS_USER &&
		   held(d->socket, "maps", -1) == MAPS_ALL,
	   "dmactl status shows nobody's maps at its limit and all of them at theirs");
	procstat_read(d->pid, &at_limit);
	ok(at_limit.maps - before.maps <= MAPS_ALL + MAPS_SLACK,
	   "dmad's mappings grew by %d, within the %d clients may make (+%d)",
	   at_limit.maps - before.maps, MAPS_ALL, MAPS_SLACK);
	{
		static char out[1 << 16];

		r = dmactl_status(d->socket, NULL, out, sizeof(out));
		ok(r == 0 && strstr(out, "dma_skeleton0"),
		   "dmactl status at the limit: exit %d (want 0), devices listed", r);
	}
	ok(harness_dmad_alive(d), "dmad is alive at the limit");

	close(fd);
	close(memfd);
	unhold(&hd, "nobody's clients");

	/* Given back: the counts, and room for the same clients again, exactly. */
	settled(d->socket, "once nobody's and root's clients went");
	ok(held(d->socket, "maps", ASUSER_NOBODY) == 0, "nobody holds no mapping any more");
	if (!hold(&hd, d->socket, nobody, 5, 30))
		return;
	sum = total_regions(&hd.h, &only_edquot);
	unhold(&hd, "nobody's clients, again");
	ok(sum == MAPS_USER, "nobody's clients map %u regions again (%d)", sum, MAPS_USER);
	settled(d->socket, "and once they went again");
}

/* Clients per user and in all: HELLO -EDQUOT, dmactl says so, root still gets in. */
static void check_clients(struct harness_dmad *d, const struct asuser *nobody)
{
	const struct asuser other = {"another user", OTHER_UID, OTHER_UID, 0, {0}};
	static char out[1 << 16];
	struct holder hn, ho;
	bool rest_edquot;
	unsigned n;
	int r;

	if (!hold(&hn, d->socket, nobody, CLIENTS_USER + 2, 0))
		return;
	n = hellos_ok(&hn.h, &rest_edquot);
	ok(n == CLIENTS_USER && rest_edquot,
	   "nobody connected %u clients (want its limit, %d); the next HELLOs got -EDQUOT", n,
	   CLIENTS_USER);
	ok(hn.h.lib == -EDQUOT, "dmac_connect over the limit: %d (want %d, not %d)", hn.h.lib,
	   -EDQUOT, -ENODEV);
	r = dmactl_status(d->socket, nobody, out, sizeof(out));
	if (r == -ENOENT) {
		tap_skip("dmactl as nobody: setpriv is not installed");
	} else {
		ok(r == 1 && strstr(out, "limit") && !strstr(out, "not running"),
		   "dmactl status as nobody over its limit: exit %d (want 1), says it is a limit",
		   r);
		tap_diag("it said: %s", out);
	}

	/* The bystander and nobody's: another user finds room for the rest. */
	if (!hold(&ho, d->socket, &other, CLIENTS_ALL, 0))
		return;
	n = hellos_ok(&ho.h, &rest_edquot);
	ok(n == CLIENTS_ALL - CLIENTS_USER - 1 && rest_edquot,
	   "another user connected %u (want %d: the limit in all less nobody's and the "
	   "bystander); then -EDQUOT",
	   n, CLIENTS_ALL - CLIENTS_USER - 1);
	r = dmactl_status(d->socket, NULL, out, sizeof(out));
	ok(r == 0 && strstr(out, "dma_skeleton0"),
	   "dmactl status as root with every client slot taken: exit %d (want 0)", r);
	{
		void *map;
		uint32_t id;
		int fd = raw_connect(d->socket), memfd = raw_memfd(4096, true, &map);
		int hello = fd >= 0 ? raw_hello(fd, "root-reserve") : fd;

		r = hello == 0 ? raw_region_reg(fd, memfd, 4096, &id) : hello;
		ok(hello == 0 && r == -EDQUOT,
		   "root's client on the admin reserve: HELLO %d, but a region: %d (want %d)",
		   hello, r, -EDQUOT);
		close(memfd);
		if (fd >= 0)
			close(fd);
	}
	unhold(&ho, "another user's clients");
	unhold(&hn, "nobody's clients");

	settled(d->socket, "once every client but the bystander went");
	if (!hold(&hn, d->socket, nobody, CLIENTS_USER, 0))
		return;
	n = hellos_ok(&hn.h, &rest_edquot);
	unhold(&hn, "nobody's clients, again");
	ok(n == CLIENTS_USER, "nobody connects %u clients again (%d)", n, CLIENTS_USER);
}

static void limits_daemon(void)
{
	const struct asuser nobody = {"nobody", ASUSER_NOBODY, ASUSER_NOBODY, 0, {0}};
	char all[64], user[64], client[64];
	struct harness_dmad *d;
	struct bystander b;

	snprintf(all, sizeof(all), "clients=%d,maps=%d", CLIENTS_ALL, MAPS_ALL);
	snprintf(user, sizeof(user), "clients=%d,maps=%d", CLIENTS_USER, MAPS_USER);
	snprintf(client, sizeof(client), "regions=%d", REGIONS_CLIENT);
	d = harness_dmad_start("--limit", all, "--user-limit", user, "--client-limit", client,
			       NULL);
	asuser_open_socket(d);
	bystander_start(&b, d->socket);
	/* Let it take its maps before anyone counts on what is left. */
	settled(d->socket, "with the bystander copying");
	check_maps(d, &nobody);
	check_clients(d, &nobody);
	ok(bystander_stop(&b), "a client connected before copied on, every byte right");
	harness_dmad_finish(d);
}

/* Fill @fd's user up to the limit with regions; returns how many. */
static unsigned fill(int fd, int memfd, uint32_t *ids, unsigned max, int *ret_err)
{
	unsigned n = 0;

	while (n < max && (*ret_err = raw_region_reg(fd, memfd, 4096, &ids[n])) == 0)
		n++;
	return n;
}

static int region_unreg(int fd, uint32_t id)
{
	struct dmad_proto_region_unreg_req req = {.region_id = id};

	return raw_request(fd, DMAD_PROTO_REGION_UNREG, &req, sizeof(req), NULL, 0, NULL);
}

/* Register one region, retrying until @ms pass; 0 once one fits. */
static int fits_within(int fd, int memfd, int ms, uint32_t *ret_id)
{
	int64_t end = harness_now_ms() + ms;
	int r;

	while ((r = raw_region_reg(fd, memfd, 4096, ret_id)) == -EDQUOT && harness_now_ms() < end)
		usleep(20000);
	return r;
}

static void zombie_daemon(void)
{
	char all[32], user[32], out[4096];
	char *fault[] = {
		(char *)harness_env("DMACTL_BIN"), (char *)"--socket", NULL, (char *)"fault",
		(char *)"dma_skeleton0",	   (char *)"hang",     NULL};
	struct harness_dmad *d;
	struct raw_chan ch;
	uint32_t src, dst, ids[ZOMBIE_MAPS], extra, cookie;
	void *smap, *dmap, *fmap;
	unsigned n;
	int fd, fsrc, fdst, ffill, r, err = 0;

	snprintf(all, sizeof(all), "maps=%d", ZOMBIE_MAPS);
	snprintf(user, sizeof(user), "maps=%d", ZOMBIE_MAPS);
	d = harness_dmad_start("--engines", "1", "--fault-injection", "--watchdog-ms",
			       ZOMBIE_WATCHDOG, "--limit", all, "--user-limit", user, NULL);
	fault[2] = d->socket;
	fd = raw_connect(d->socket);
	fsrc = raw_memfd(4096, true, &smap);
	fdst = raw_memfd(4096, true, &dmap);
	ffill = raw_memfd(4096, true, &fmap);
	if (fd < 0 || raw_hello(fd, "zombie") != 0 || raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch) ||
	    raw_region_reg(fd, fsrc, 4096, &src) || raw_region_reg(fd, fdst, 4096, &dst))
		tap_bail("zombie client");
	n = fill(fd, ffill, ids, ZOMBIE_MAPS, &err);
	ok(n == ZOMBIE_MAPS - 3 && err == -EDQUOT,
	   "a channel, two regions and %u more fill the limit of %d maps (then %d)", n, ZOMBIE_MAPS,
	   err);

	/* Unregistered with nothing in flight: its place comes back at once. */
	r = region_unreg(fd, ids[--n]);
	ok(r == 0 && fits_within(fd, ffill, 1000, &ids[n]) == 0,
	   "a region unregistered with no copy in flight makes room (%d)", r);
	n++;

	r = harness_run(fault, out, sizeof(out), 10000);
	if (!ok(r == 0, "dmactl fault dma_skeleton0 hang (exit %d)", r))
		goto out;
	memset(smap, 0x5a, 4096);
	cookie = raw_chan_push(&ch, (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
							     .len = 4096,
							     .src_region = (uint16_t)src,
							     .dst_region = (uint16_t)dst});
	raw_chan_issue(&ch);
	/* The worker takes it off the ring and hands it to an engine that will
	 * not complete it until the watchdog gives up on the engine. */
	for (int i = 0; i < 100 && __atomic_load_n(&ch.ring->sq_head, __ATOMIC_ACQUIRE) != ch.tail;
	     i++)
		usleep(10000);
	r = region_unreg(fd, src);
	ok(r == 0, "the copy's source unregistered while the copy is in flight (%d)", r);
	usleep(200000); /* ten ticks: anything that could be reaped has been */
	r = raw_region_reg(fd, ffill, 4096, &extra);
	ok(r == -EDQUOT, "it stays mapped for the copy, and counts: a new region gets %d (want %d)",
	   r, -EDQUOT);
	ok(raw_chan_wait(&ch, cookie, 20000), "the watchdog has the copy redone");
	ok(!memcmp(dmap, smap, 4096), "with the right bytes");
	r = fits_within(fd, ffill, RETURN_MS, &extra);
	ok(r == 0, "once it retired, the source's place comes back (%d)", r);
out:
	raw_chan_unmap(&ch);
	close(fd);
	close(fsrc);
	close(fdst);
	close(ffill);
	harness_dmad_finish(d);
}

int main(void)
{
	if (geteuid() != 0)
		tap_skip_all("needs root, to run clients as other users");
	harness_watchdog(150);
	limits_daemon();
	zombie_daemon();
	return tap_done();
}
