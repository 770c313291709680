/* SPDX-License-Identifier: MIT */
/*
 * The two tiers of DESIGN.md's Security section, with real credentials
 * (children that setresuid/setgroups, and dmactl under setpriv): anyone
 * who can connect is a client, who may take channels and read status and
 * flows, seeing every device but only its own session; admins (root,
 * dmad's own user, the admin group by primary gid or SO_PEERGROUPS) may
 * also remove, add, fault, set the log level and see every client.
 *
 * The first dmad runs with its defaults, where the admin group dma-admin
 * does not exist on a test host: then no gid makes an admin, group 0
 * included (it used to: the unset gid was compared as 0). The second is
 * told --admin-group GID, a gid no group has, so that the test needs no
 * change to the host's groups.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "asuser.h"
#include "copier.h"
#include "dmad_rx.h"
#include "harness.h"
#include "jsonread.h"
#include "rawproto.h"

#define DEV	"dma_skeleton0"
#define NEW_DEV "dma_skeleton7"
#define ADD_DEV "dma_skeleton5"
#define OTHER	"root-other"

enum { A_REMOVE, A_ADD, A_FAULT, A_LOG, A_RESET, NADMIN };

/* What a raw client running as some user saw, sent back through a pipe. */
struct probe {
	int32_t hello, region, chan, status, flows;
	int32_t admin[NADMIN]; /* all for a client; LOG_LEVEL and RESET_FAILED for an admin */
	uint32_t status_flags, flows_flags;
	uint32_t ndev, own_client, own_chans, others;
};

static int32_t admin_req(int fd, unsigned which)
{
	struct dmad_proto_dev_remove_req rm = {DEV, 100, 0};
	struct dmad_proto_dev_add_req add = {NEW_DEV};
	struct dmad_proto_dev_fault_req fault = {DEV, DMAD_PROTO_FAULT_HANG, 0};
	struct dmad_proto_log_level_req log = {.level = 6};
	struct dmad_proto_reset_failed_req reset = {""}; /* every record */

	switch (which) {
	case A_REMOVE:
		return raw_request(fd, DMAD_PROTO_DEV_REMOVE, &rm, sizeof(rm), NULL, 0, NULL);
	case A_ADD:
		return raw_request(fd, DMAD_PROTO_DEV_ADD, &add, sizeof(add), NULL, 0, NULL);
	case A_FAULT:
		return raw_request(fd, DMAD_PROTO_DEV_FAULT, &fault, sizeof(fault), NULL, 0, NULL);
	case A_LOG:
		return raw_request(fd, DMAD_PROTO_LOG_LEVEL, &log, sizeof(log), NULL, 0, NULL);
	default:
		return raw_request(fd, DMAD_PROTO_RESET_FAILED, &reset, sizeof(reset), NULL, 0,
				   NULL);
	}
}

/* Whose are the client and channel records of a STATUS reply? */
static void read_status(const struct raw_msg *m, uint32_t own_id, struct probe *p)
{
	const struct dmad_proto_status *st = (const void *)m->body;
	const struct dmad_proto_client_info *ci;
	const struct dmad_proto_chan_info *hi;

	if (m->body_len < sizeof(*st) ||
	    m->body_len < sizeof(*st) + st->ndev * sizeof(struct dmad_proto_dev_info) +
				  st->nclient * sizeof(*ci) + st->nchan * sizeof(*hi))
		return;
	p->status_flags = st->flags;
	p->ndev = st->ndev;
	ci = (const void *)(m->body + sizeof(*st) + st->ndev * sizeof(struct dmad_proto_dev_info));
	hi = (const void *)(ci + st->nclient);
	for (uint32_t i = 0; i < st->nclient; i++) {
		if (ci[i].client_id == own_id && ci[i].uid == getuid())
			p->own_client++;
		else
			p->others++;
	}
	for (uint32_t i = 0; i < st->nchan; i++) {
		if (hi[i].client_id == own_id)
			p->own_chans++;
		else
			p->others++;
	}
}

static void probe_main(const char *socket, bool admin, int out)
{
	struct dmad_proto_hello_req hello = {"probe"};
	static struct raw_msg m;
	struct probe p = {0};
	struct raw_chan ch;
	uint32_t own_id = 0, id;
	void *map;
	int fd = raw_connect(socket), memfd;

	if (fd < 0)
		_exit(3);
	p.hello = raw_request(fd, DMAD_PROTO_HELLO, &hello, sizeof(hello), NULL, 0, &m);
	if (p.hello == 0 && m.body_len >= sizeof(struct dmad_proto_hello_rep))
		memcpy(&own_id, m.body, sizeof(own_id)); /* client_id comes first */
	memfd = raw_memfd(4096, true, &map);
	p.region = raw_region_reg(fd, memfd, 4096, &id);
	p.chan = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch);
	p.status = raw_request(fd, DMAD_PROTO_STATUS, NULL, 0, NULL, 0, &m);
	if (p.status == 0)
		read_status(&m, own_id, &p);
	p.flows = raw_request(fd, DMAD_PROTO_FLOWS, NULL, 0, NULL, 0, &m);
	if (p.flows == 0 && m.body_len >= sizeof(struct dmad_proto_flows))
		p.flows_flags = ((const struct dmad_proto_flows *)m.body)->flags;
	for (unsigned i = 0; i < NADMIN; i++)
		p.admin[i] = admin && i != A_LOG && i != A_RESET ? 0 : admin_req(fd, i);
	_exit(write(out, &p, sizeof(p)) == (ssize_t)sizeof(p) ? 0 : 4);
}

/* A raw client as @u: everything a client may do, and the admin requests. */
static bool probe(const char *socket, const struct asuser *u, bool admin, struct probe *p)
{
	int pipefd[2];
	pid_t pid;
	bool done;

	if (pipe(pipefd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = asuser_fork(u);
	if (pid == 0) {
		close(pipefd[0]);
		probe_main(socket, admin, pipefd[1]);
	}
	close(pipefd[1]);
	done = read(pipefd[0], p, sizeof(*p)) == (ssize_t)sizeof(*p);
	done = harness_wait_child(pid, 20000, u->what) && done;
	close(pipefd[0]);
	return ok(done, "%s: a raw client connects and asks", u->what);
}

static void check_client_tier(const char *socket, const struct asuser *u)
{
	struct probe p;

	if (!probe(socket, u, false, &p))
		return;
	ok(p.hello == 0 && p.region == 0 && p.chan == 0,
	   "%s: HELLO %d, REGION_REG %d, CHAN_GET %d: a client", u->what, p.hello, p.region,
	   p.chan);
	ok(p.status == 0 && p.ndev > 0 && (p.status_flags & DMAD_PROTO_LIST_OWN_ONLY),
	   "%s: STATUS %d with %u device(s), flagged own-only (%#x)", u->what, p.status, p.ndev,
	   p.status_flags);
	ok(p.own_client == 1 && p.own_chans == 1 && p.others == 0,
	   "%s: it shows its own session (%u client, %u channel) and nothing of others' (%u)",
	   u->what, p.own_client, p.own_chans, p.others);
	ok(p.flows == 0 && (p.flows_flags & DMAD_PROTO_LIST_OWN_ONLY),
	   "%s: FLOWS %d, own flows only (%#x)", u->what, p.flows, p.flows_flags);
	ok(p.admin[A_REMOVE] == -EACCES && p.admin[A_ADD] == -EACCES &&
		   p.admin[A_FAULT] == -EACCES && p.admin[A_LOG] == -EACCES &&
		   p.admin[A_RESET] == -EACCES,
	   "%s: DEV_REMOVE %d, DEV_ADD %d, DEV_FAULT %d, LOG_LEVEL %d, RESET_FAILED %d (want %d "
	   "each)",
	   u->what, p.admin[A_REMOVE], p.admin[A_ADD], p.admin[A_FAULT], p.admin[A_LOG],
	   p.admin[A_RESET], -EACCES);
}

static void check_admin_tier(const char *socket, const struct asuser *u)
{
	struct probe p;

	if (!probe(socket, u, true, &p))
		return;
	ok(p.hello == 0 && p.region == 0 && p.chan == 0 && p.admin[A_LOG] == 0 &&
		   p.admin[A_RESET] == 0,
	   "%s: an admin: LOG_LEVEL %d, RESET_FAILED %d (HELLO %d, REGION_REG %d, CHAN_GET %d)",
	   u->what, p.admin[A_LOG], p.admin[A_RESET], p.hello, p.region, p.chan);
	ok(p.status == 0 && !(p.status_flags & DMAD_PROTO_LIST_OWN_ONLY) && p.own_client == 1 &&
		   p.others > 0,
	   "%s: STATUS %d shows other clients too (%u records, flags %#x)", u->what, p.status,
	   p.others, p.status_flags);
	ok(p.flows == 0 && !(p.flows_flags & DMAD_PROTO_LIST_OWN_ONLY), "%s: FLOWS %d, all (%#x)",
	   u->what, p.flows, p.flows_flags);
}

/* dmactl as @u (NULL: as root, the test itself); its exit status. */
static int dmactl(const char *socket, const struct asuser *u, char *out, size_t size,
		  const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)a1,
			(char *)a2,
			(char *)a3,
			NULL};

	return u ? asuser_run(u, argv, out, size, 15000) : harness_run(argv, out, size, 15000);
}

/* dmactl --json status: does it list a client named @name, and is it own-only? */
static int status_json(const char *socket, const struct asuser *u, const char *name,
		       bool *ret_named, bool *ret_own_only, bool *ret_dev)
{
	static char out[1 << 16];
	const struct jv *clients, *devs;
	struct jv *v;
	int r = dmactl(socket, u, out, sizeof(out), "--json", "status", NULL);

	*ret_named = *ret_own_only = *ret_dev = false;
	v = jv_parse(out);
	if (r != 0 || !v)
		return r ? r : -EBADMSG;
	clients = jv_get(v, "clients");
	devs = jv_get(v, "devices");
	for (size_t i = 0; clients && i < clients->n; i++)
		*ret_named |= !strcmp(jv_str(jv_get(jv_at(clients, i), "name"), ""), name);
	for (size_t i = 0; devs && i < devs->n; i++)
		*ret_dev |= !strcmp(jv_str(jv_get(jv_at(devs, i), "name"), ""), DEV) &&
			    !strcmp(jv_str(jv_get(jv_at(devs, i), "state"), ""), "ONLINE");
	*ret_own_only = jv_get(v, "own_only") && jv_get(v, "own_only")->b;
	jv_free(v);
	return 0;
}

static void check_dmactl_client(const char *socket, const struct asuser *u)
{
	static char out[1 << 16];
	bool named, own_only, dev;
	int r;

	r = status_json(socket, u, OTHER, &named, &own_only, &dev);
	if (r == -ENOENT) {
		tap_skip("dmactl as %s: setpriv is not installed", u->what);
		return;
	}
	ok(r == 0 && dev && own_only && !named,
	   "dmactl status as %s: exit %d, %s listed, own-only %d, another client shown %d", u->what,
	   r, DEV, own_only, named);
	r = dmactl(socket, u, out, sizeof(out), "flows", NULL, NULL);
	ok(r == 0, "dmactl flows as %s: exit %d (want 0)", u->what, r);
	r = dmactl(socket, u, out, sizeof(out), "log-level", "debug", NULL);
	ok(r == 4, "dmactl log-level as %s: exit %d (want 4)", u->what, r);
	r = dmactl(socket, u, out, sizeof(out), "remove", DEV, NULL);
	ok(r == 4, "dmactl remove as %s: exit %d (want 4)", u->what, r);
	r = dmactl(socket, u, out, sizeof(out), "add", NEW_DEV, NULL);
	ok(r == 4, "dmactl add as %s: exit %d (want 4)", u->what, r);
	r = dmactl(socket, u, out, sizeof(out), "fault", DEV, "hang");
	ok(r == 4, "dmactl fault as %s: exit %d (want 4)", u->what, r);
}

static void check_dmactl_admin(const char *socket, const struct asuser *u)
{
	static char out[1 << 16];
	bool named, own_only, dev;
	int r;

	r = status_json(socket, u, OTHER, &named, &own_only, &dev);
	if (r == -ENOENT) {
		tap_skip("dmactl as %s: setpriv is not installed", u->what);
		return;
	}
	ok(r == 0 && dev && !own_only && named,
	   "dmactl status as %s: exit %d, every client shown (own-only %d, %s shown %d)", u->what,
	   r, own_only, OTHER, named);
	r = dmactl(socket, u, out, sizeof(out), "log-level", "info", NULL);
	ok(r == 0, "dmactl log-level as %s: exit %d (want 0)", u->what, r);
	r = dmactl(socket, u, out, sizeof(out), "add", ADD_DEV, NULL);
	ok(r == 0, "dmactl add as %s: exit %d (want 0)", u->what, r);
}

/* Root's own client, with a channel: the "other client" the tiers hide. */
static int other_client(const char *socket, struct raw_chan *ch)
{
	void *map;
	uint32_t id;
	int fd = raw_connect(socket), memfd = raw_memfd(4096, true, &map);

	if (fd < 0 || raw_hello(fd, OTHER) != 0 || raw_region_reg(fd, memfd, 4096, &id) != 0 ||
	    raw_chan_get(fd, DMAD_PROTO_CAP_COPY, ch) != 0)
		tap_bail("root's client on %s", socket);
	close(memfd);
	return fd;
}

/* Defaults, no admin group on this host: only root (and dmad's user) are admins. */
static void default_daemon(const struct asuser *nobody, const struct asuser *group0)
{
	struct harness_dmad *d;
	struct bystander b;
	struct raw_chan ch;
	bool named, own_only, dev;
	int other, r;

	if (getgrnam("dma-admin"))
		tap_diag("this host has a group dma-admin; the test users are not in it");
	d = harness_dmad_start("--fault-injection", NULL);
	asuser_open_socket(d);
	bystander_start(&b, d->socket);
	other = other_client(d->socket, &ch);

	check_client_tier(d->socket, nobody);
	check_client_tier(d->socket, group0);
	check_dmactl_client(d->socket, nobody);
	check_dmactl_client(d->socket, group0);

	/* A hang would be noticed by the watchdog within 1 s: give it time. */
	usleep(1200000);
	r = status_json(d->socket, NULL, OTHER, &named, &own_only, &dev);
	ok(r == 0 && dev && named && !own_only,
	   "dmactl status as root: every client shown, %s still ONLINE, no admin request took "
	   "effect (exit %d)",
	   DEV, r);
	raw_chan_unmap(&ch);
	close(other);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
}

/* --admin-group GID: its members are admins, by primary or supplementary group. */
static void group_daemon(gid_t admin_gid, const struct asuser *group0)
{
	const struct asuser member = {
		"nobody in the admin group", ASUSER_NOBODY, ASUSER_NOBODY, 1, {admin_gid}};
	const struct asuser primary = {
		"nobody with the admin group as primary gid", ASUSER_NOBODY, admin_gid, 0, {0}};
	struct harness_dmad *d;
	struct raw_chan ch;
	char gid[16];
	int other;

	snprintf(gid, sizeof(gid), "%u", (unsigned)admin_gid);
	d = harness_dmad_start("--admin-group", gid, NULL);
	asuser_open_socket(d);
	other = other_client(d->socket, &ch);
	check_admin_tier(d->socket, &member);
	check_admin_tier(d->socket, &primary);
	check_client_tier(d->socket, group0);
	check_dmactl_admin(d->socket, &member);
	raw_chan_unmap(&ch);
	close(other);
	harness_dmad_finish(d);
}

int main(void)
{
	const struct asuser nobody = {"nobody, no groups", ASUSER_NOBODY, ASUSER_NOBODY, 0, {0}};
	const struct asuser group0 = {"nobody in group 0", ASUSER_NOBODY, 0, 1, {0}};

	if (geteuid() != 0)
		tap_skip_all("needs root, to act as other users");
	harness_watchdog(120);
	default_daemon(&nobody, &group0);
	group_daemon(asuser_unused_gid(), &group0);
	return tap_done();
}
