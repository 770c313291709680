/* SPDX-License-Identifier: MIT */
/*
 * A real dmad started with --takeover-fd on a damaged handover state, as a
 * broken or hostile predecessor would leave it: cut short, of another
 * version, naming a record out of range, or with an fd that is not of its
 * kind. Each time dmad must
 * refuse the state with a log line that says why, close every fd it
 * inherited (the session's client sees its connection end, which its
 * library reports as -ENODEV), start clean on its own socket, serve a new
 * client's verified copies and exit cleanly: no crash.
 *
 * The state names a client (one end of a socketpair: the test reads the
 * other), a region (the write end of a pipe: the wrong kind) and a control
 * socket (a connected socket: a listening one would be kept, and served
 * instead of the harness's). The test holds the other ends. Two more
 * states name a receive flow: one with a pipe for its AF_XDP socket, one
 * with the socket on a queue out of range.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "copier.h"
#include "handover_state.h"
#include "harness.h"

/* What dmad inherits, and the ends the test keeps. */
struct inherited {
	int client, client_peer;
	int region, region_peer; /* a pipe: write end, read end */
	int listen, listen_peer;
};

static void make_fds(struct inherited *f)
{
	int sp[2], pp[2], lp[2];

	/* Only dmad's ends survive its exec. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0 || pipe(pp) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, lp) < 0)
		tap_bail("socketpair/pipe: %s", strerror(errno));
	*f = (struct inherited){sp[0], sp[1], pp[1], pp[0], lp[0], lp[1]};
	fcntl(f->client_peer, F_SETFD, FD_CLOEXEC);
	fcntl(f->region_peer, F_SETFD, FD_CLOEXEC);
	fcntl(f->listen_peer, F_SETFD, FD_CLOEXEC);
}

enum damage {
	TRUNCATED,
	OTHER_VERSION,
	OUT_OF_RANGE,
	WRONG_KIND,
	XSK_WRONG_KIND,
	QUEUE_OUT_OF_RANGE
};

/* The rx flow's fds: pipes, a read end and a write end each. The AF_XDP
 * socket's entry comes first of them, so that its check is the one that
 * refuses. */
#define RX_FDS 8
static int rx_fds[RX_FDS];

static void make_rx_fds(void)
{
	for (int i = 0; i < RX_FDS; i += 2)
		if (pipe(&rx_fds[i]) < 0)
			tap_bail("pipe: %s", strerror(errno));
}

/*
 * One client with one receive flow (no region): fds 0 client, 1 the AF_XDP
 * socket (a pipe: XSK_WRONG_KIND), 2 its UMEM, 3 the bpf_link, 4-6 the
 * maps, 7 the area, 8 the eventfd, 9 the control socket (not listening:
 * checked after the socket).
 */
static void *rx_state(const struct inherited *f, enum damage how, size_t *ret_len)
{
	const struct handover_ext_counts x = {
		.nclients = 1, .nrxifs = 1, .nrxsocks = 1, .nrxflows = 1};
	size_t len = handover_state_size_ext(1, 0, 0, 0, 2 + RX_FDS, &x);
	static const uint32_t kinds[RX_FDS] = {HANDOVER_FD_XSK,	     HANDOVER_FD_UMEM,
					       HANDOVER_FD_BPF_LINK, HANDOVER_FD_BPF_MAP,
					       HANDOVER_FD_BPF_MAP,  HANDOVER_FD_BPF_MAP,
					       HANDOVER_FD_RX_AREA,  HANDOVER_FD_RX_EVENT};
	struct handover_view v;
	void *buf = calloc(1, len);
	struct handover_fd *t;

	if (!buf)
		tap_bail("state: %s", strerror(errno));
	handover_state_init_ext(buf, 1, 0, 0, 0, 2 + RX_FDS, &x, &v);
	((struct handover_hdr *)v.h)->listen_fd = 9;
	*(struct handover_client *)v.clients =
		(struct handover_client){.id = 7, .sock = 0, .name = "victim"};
	((struct handover_ext *)v.ext.e)->next_flow_id = 1;
	*(struct handover_rxif *)v.ext.rxifs = (struct handover_rxif){.name = "dmrx0",
								      .link = 3,
								      .flows_map = 4,
								      .xsks_map = 5,
								      .owner_map = 6,
								      .mode = 1};
	*(struct handover_rxsock *)v.ext.rxsocks = (struct handover_rxsock){
		.iface = 0,
		.queue = how == QUEUE_OUT_OF_RANGE ? DMAD_RX_MAX_QUEUES : 0,
		.xsk = 1,
		.umem = 2};
	*(struct handover_rxflow *)v.ext.rxflows = (struct handover_rxflow){.client = 0,
									    .id = 1,
									    .sock = 0,
									    .port = 7000,
									    .proto = DMAD_RX_UDP,
									    .slot_size = 2048,
									    .slot_count = 64,
									    .area = 7,
									    .event = 8};
	t = (struct handover_fd *)v.fds;
	t[0] = (struct handover_fd){HANDOVER_FD_CLIENT, f->client};
	for (int i = 0; i < RX_FDS; i++)
		t[1 + i] = (struct handover_fd){kinds[i], rx_fds[i]};
	t[9] = (struct handover_fd){HANDOVER_FD_LISTEN, f->listen};
	*ret_len = len;
	return buf;
}

/* The state, damaged, in a sealed memfd dmad inherits. Returns the memfd. */
static int state_memfd(const struct inherited *f, enum damage how)
{
	size_t len = handover_state_size(1, 1, 0, 0, 3);
	struct handover_view v;
	void *buf = how >= XSK_WRONG_KIND ? rx_state(f, how, &len) : calloc(1, len);
	int fd = memfd_create("dmad-handover", MFD_ALLOW_SEALING);

	if (!buf || fd < 0)
		tap_bail("state: %s", strerror(errno));
	if (how >= XSK_WRONG_KIND)
		goto write;
	handover_state_init(buf, 1, 1, 0, 0, 3, &v);
	((struct handover_hdr *)v.h)->listen_fd = 2;
	*(struct handover_client *)v.clients =
		(struct handover_client){.id = 7, .sock = 0, .next_chan_id = 0, .name = "victim"};
	*(struct handover_region *)v.regions =
		(struct handover_region){.client = 0, .id = 0, .len = 4096, .fd = 1};
	struct handover_fd *t = (struct handover_fd *)v.fds;
	t[0] = (struct handover_fd){HANDOVER_FD_CLIENT, f->client};
	t[1] = (struct handover_fd){HANDOVER_FD_REGION, f->region}; /* a pipe: WRONG_KIND */
	t[2] = (struct handover_fd){HANDOVER_FD_LISTEN, f->listen};
	if (how == OTHER_VERSION)
		((struct handover_hdr *)v.h)->version = HANDOVER_VERSION + 97;
	if (how == OUT_OF_RANGE)
		((struct handover_region *)v.regions)->client = 5;
	if (how == TRUNCATED)
		len -= 9;
write:
	if (write(fd, buf, len) != (ssize_t)len)
		tap_bail("write state: %s", strerror(errno));
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	free(buf);
	return fd;
}

static bool log_has(const struct harness_dmad *d, const char *want)
{
	FILE *f = fopen(d->log, "re");
	char line[1024];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* @fd's other end is closed everywhere: reading it says so. */
static bool closed_far_end(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b;

	return poll(&p, 1, 5000) == 1 && read(fd, &b, 1) == 0;
}

/* dmad closed the flow's write ends it inherited: their read ends (ours
 * closed) say end of file. */
static bool rx_fds_closed(void)
{
	bool all = true;

	for (int i = 0; i < RX_FDS; i += 2) {
		all &= closed_far_end(rx_fds[i]);
		close(rx_fds[i]);
	}
	return all;
}

static void run(enum damage how, const char *what, const char *why)
{
	struct inherited f;
	struct harness_dmad *d;
	struct copier k = {0};
	char opt[32], want[256];
	int state, r;

	make_fds(&f);
	make_rx_fds();
	state = state_memfd(&f, how);
	snprintf(opt, sizeof(opt), "--takeover-fd=%d", state);
	/* Returns once dmad accepts connections: after it read the state. */
	d = harness_dmad_start(opt, NULL);
	close(state);
	close(f.client), close(f.region), close(f.listen);
	/* Odd entries are write ends: each closed pipe's read end reports it. */
	for (int i = 0; i < RX_FDS; i += 2)
		close(rx_fds[i + 1]);

	snprintf(want, sizeof(want), "refusing the handover state: %s", why);
	tap_ok(log_has(d, want), "%s: refused, and the log says why (\"%s\")", what, why);
	tap_ok(closed_far_end(f.client_peer) && closed_far_end(f.listen_peer) &&
		       (how >= XSK_WRONG_KIND || closed_far_end(f.region_peer)) &&
		       (how < XSK_WRONG_KIND || rx_fds_closed()),
	       "%s: every fd it named closed (its client sees the daemon gone)", what);
	r = copier_init(&k, d->socket, "newcomer", 1 << 20, 1 << 20, 64 << 10, 42);
	if (r == 0)
		r = copier_round(&k, 16);
	copier_fini(&k);
	tap_ok(r == 0, "%s: dmad started clean and a new client's copies verify (%s)", what,
	       r ? strerror(-r) : "ok");
	tap_ok(harness_dmad_alive(d), "%s: dmad is still running", what);
	harness_dmad_finish(d);
	close(f.client_peer), close(f.region_peer), close(f.listen_peer);
}

int main(void)
{
	tap_plan(30);
	harness_watchdog(120);
	run(TRUNCATED, "a state cut short", "its length field disagrees with its size");
	run(OTHER_VERSION, "a state of another version", "of another version than this dmad reads");
	run(OUT_OF_RANGE, "a region of a client out of range",
	    "a region with its client, id or length out of range");
	run(WRONG_KIND, "a pipe as a region's memfd",
	    "a region's fd is not a memfd sealed against shrinking");
	run(XSK_WRONG_KIND, "a pipe as an rx flow's AF_XDP socket",
	    "an AF_XDP socket's fd is not one");
	run(QUEUE_OUT_OF_RANGE, "an AF_XDP socket on a queue out of range",
	    "an AF_XDP socket with its interface or queue out of range");
	return tap_done();
}
