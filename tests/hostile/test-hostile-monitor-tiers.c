/* SPDX-License-Identifier: MIT */
/*
 * What a monitor hears depends on who asks, as STATUS does: user nobody,
 * a client, gets the devices' events and those about its own connection
 * (its channel moved), never another client's coming and going; root, an
 * admin, hears everything. Real credentials: the monitor that is not an
 * admin runs in a child that dropped to nobody.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "asuser.h"
#include "harness.h"
#include "rawproto.h"

#define MON_NAME  "nobody-monitor"
#define OTHER	  "root-other"
#define LISTEN_MS 1500

/* What a monitor heard, by kind. */
struct heard {
	uint32_t dev_removed, dev_added, own_moved, foreign_moved;
	uint32_t other_client; /* connected/gone of OTHER */
	uint32_t any_client;   /* connected/gone of anyone */
};

static void listen_to(int mon, struct heard *h, const char *own)
{
	for (int64_t end = harness_now_ms() + LISTEN_MS; harness_now_ms() < end;) {
		struct dmad_proto_hdr hd;
		struct dmad_proto_monitor_event e;
		struct iovec iov[2] = {{&hd, sizeof(hd)}, {&e, sizeof(e)}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		struct pollfd p = {.fd = mon, .events = POLLIN};

		if (poll(&p, 1, 100) <= 0 || recvmsg(mon, &mh, 0) != sizeof(hd) + sizeof(e) ||
		    hd.type != DMAD_PROTO_MONITOR_EVENT)
			continue;
		switch (e.type) {
		case DMAD_PROTO_MON_DEV_REMOVED:
			h->dev_removed++;
			break;
		case DMAD_PROTO_MON_DEV_ADDED:
			h->dev_added++;
			break;
		case DMAD_PROTO_MON_CHAN_MOVED:
			if (own && !strncmp(e.name, own, sizeof(e.name)))
				h->own_moved++;
			else
				h->foreign_moved++;
			break;
		case DMAD_PROTO_MON_CLIENT_CONNECTED:
		case DMAD_PROTO_MON_CLIENT_GONE:
			h->any_client++;
			h->other_client += !strncmp(e.name, OTHER, sizeof(e.name));
			break;
		}
	}
}

/* Child, as nobody: a client with a channel that monitors, then reports. */
static void nobody_main(const char *socket, int ready, int go, int out)
{
	struct raw_chan ch;
	struct heard h = {0};
	struct raw_msg m;
	char c;
	int fd = raw_connect(socket);

	if (fd < 0 || raw_hello(fd, MON_NAME) != 0 ||
	    raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch) != 0 ||
	    raw_request(fd, DMAD_PROTO_MONITOR, NULL, 0, NULL, 0, &m) != 0)
		_exit(3);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(4);
	listen_to(fd, &h, MON_NAME);
	_exit(write(out, &h, sizeof(h)) == (ssize_t)sizeof(h) ? 0 : 5);
}

static int dmactl(const char *socket, const char *a, const char *b)
{
	static char out[4096];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			(char *)socket,
			(char *)a,
			(char *)b,
			NULL};

	return harness_run(argv, out, sizeof(out), 30000);
}

int main(void)
{
	const struct asuser nobody = {"nobody, no groups", ASUSER_NOBODY, ASUSER_NOBODY, 0, {0}};
	int ready[2], go[2], out[2], root_mon, other;
	struct heard mine = {0}, root = {0};
	struct harness_dmad *d;
	struct raw_msg m;
	pid_t pid;
	char c;

	if (geteuid() != 0)
		tap_skip_all("needs root, to act as user nobody");
	harness_watchdog(60);
	d = harness_dmad_start("--engines", "2", NULL);
	asuser_open_socket(d);
	if (pipe(ready) < 0 || pipe(go) < 0 || pipe(out) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = asuser_fork(&nobody);
	if (pid == 0)
		nobody_main(d->socket, ready[1], go[0], out[1]);
	ok(read(ready[0], &c, 1) == 1, "nobody: a client with a channel monitors");

	root_mon = raw_connect(d->socket);
	ok(raw_hello(root_mon, "root-monitor") == 0 &&
		   raw_request(root_mon, DMAD_PROTO_MONITOR, NULL, 0, NULL, 0, &m) == 0,
	   "root: monitors too");
	other = raw_connect(d->socket);
	ok(raw_hello(other, OTHER) == 0, "another client comes and goes");
	close(other);
	/* Both engines go: nobody's channel moves whichever it was on. */
	ok(dmactl(d->socket, "remove", "dma_skeleton0") == 0 &&
		   dmactl(d->socket, "remove", "dma_skeleton1") == 0 &&
		   dmactl(d->socket, "add", "dma_skeleton5") == 0,
	   "two devices removed, one added");
	ok(write(go[1], "g", 1) == 1, "the monitors listen");
	listen_to(root_mon, &root, NULL);
	ok(read(out[0], &mine, sizeof(mine)) == (ssize_t)sizeof(mine) &&
		   harness_wait_child(pid, 10000, "nobody's monitor"),
	   "nobody's monitor reports what it heard");

	ok(mine.dev_removed == 2 && mine.dev_added == 1,
	   "nobody hears of the devices: %u removed, %u added", mine.dev_removed, mine.dev_added);
	ok(mine.own_moved >= 1 && !mine.foreign_moved,
	   "and of its own channel's moves (%u), no one else's (%u)", mine.own_moved,
	   mine.foreign_moved);
	ok(!mine.any_client, "but not of other clients coming and going (%u)", mine.any_client);
	ok(root.other_client == 2 && root.own_moved + root.foreign_moved >= 1,
	   "root hears of the other client (%u: connected, gone) and the moves (%u)",
	   root.other_client, root.own_moved + root.foreign_moved);
	close(root_mon);
	harness_dmad_finish(d);
	return tap_done();
}
