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
 * instead of the harness's). The test holds the other ends.
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

enum damage { TRUNCATED, OTHER_VERSION, OUT_OF_RANGE, WRONG_KIND };

/* The state, damaged, in a sealed memfd dmad inherits. Returns the memfd. */
static int state_memfd(const struct inherited *f, enum damage how)
{
	size_t len = handover_state_size(1, 1, 0, 0, 3);
	struct handover_view v;
	void *buf = calloc(1, len);
	int fd = memfd_create("dmad-handover", MFD_ALLOW_SEALING);

	if (!buf || fd < 0)
		tap_bail("state: %s", strerror(errno));
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

static void run(enum damage how, const char *what, const char *why)
{
	struct inherited f;
	struct harness_dmad *d;
	struct copier k = {0};
	char opt[32], want[256];
	int state, r;

	make_fds(&f);
	state = state_memfd(&f, how);
	snprintf(opt, sizeof(opt), "--takeover-fd=%d", state);
	/* Returns once dmad accepts connections: after it read the state. */
	d = harness_dmad_start(opt, NULL);
	close(state);
	close(f.client), close(f.region), close(f.listen);

	snprintf(want, sizeof(want), "refusing the handover state: %s", why);
	tap_ok(log_has(d, want), "%s: refused, and the log says why (\"%s\")", what, why);
	tap_ok(closed_far_end(f.client_peer) && closed_far_end(f.region_peer) &&
		       closed_far_end(f.listen_peer),
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
	tap_plan(20);
	harness_watchdog(120);
	run(TRUNCATED, "a state cut short", "its length field disagrees with its size");
	run(OTHER_VERSION, "a state of another version", "of another version than this dmad reads");
	run(OUT_OF_RANGE, "a region of a client out of range",
	    "a region with its client, id or length out of range");
	run(WRONG_KIND, "a pipe as a region's memfd",
	    "a region's fd is not a memfd sealed against shrinking");
	return tap_done();
}
