/* SPDX-License-Identifier: MIT */
/*
 * Request floods. Several clients send 100k requests as fast as the daemon
 * answers them (a second HELLO, an unknown type) and each answer is the
 * right refusal; meanwhile a probe's round trip on its own connection stays
 * short. A client that sends without ever reading is dropped: once its
 * socket is full the daemon shuts it down instead of blocking, and lets go
 * of it. Another client copies and verifies throughout.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "procstat.h"
#include "rawproto.h"

#define FLOODERS     4
#define PER_FLOODER  25000
#define BURST	     32
#define PROBE_MAX_MS 1000
#define UNREAD_SENDS 100000
#define DROP_WAIT_MS 5000

static struct dmad_proto_hdr hdr(uint16_t type, uint32_t seq)
{
	return (struct dmad_proto_hdr){.magic = DMAD_PROTO_MAGIC,
				       .major = DMAD_PROTO_VERSION_MAJOR,
				       .minor = DMAD_PROTO_VERSION_MINOR,
				       .type = type,
				       .seq = seq};
}

/* Bursts of requests, then their replies: exit 0 when every one was right. */
static void flooder_main(const char *socket)
{
	struct {
		struct dmad_proto_hdr h;
		struct dmad_proto_hello_req body;
	} hello = {hdr(DMAD_PROTO_HELLO, 0), {"again"}};
	static struct raw_msg m;
	struct dmad_proto_hdr unknown = hdr(99, 0);
	int fd = raw_connect(socket);
	/* Clear of raw_hello()'s seq: HELLO again with the seq HELLO was
	 * answered under is the same request sent again (minor 11), answered
	 * as the first time. */
	uint32_t seq = 1u << 16;

	hello.h.len = sizeof(hello.body);
	if (fd < 0 || raw_hello(fd, "flooder") != 0)
		_exit(2);
	for (unsigned sent = 0; sent < PER_FLOODER; sent += BURST) {
		for (unsigned i = 0; i < BURST; i++) {
			int r;

			if (i & 1) {
				unknown.seq = seq + i;
				r = raw_send(fd, &unknown, sizeof(unknown), NULL, 0);
			} else {
				hello.h.seq = seq + i;
				r = raw_send(fd, &hello, sizeof(hello), NULL, 0);
			}
			if (r < 0)
				_exit(3);
		}
		for (unsigned i = 0; i < BURST; i++) {
			int want = i & 1 ? -EOPNOTSUPP : -EALREADY;

			if (raw_recv(fd, &m, RAW_TIMEOUT_MS) < 0 || m.hdr.seq != seq + i ||
			    m.hdr.status != want)
				_exit(4);
		}
		seq += BURST;
	}
	_exit(0);
}

/* One HELLO round trip on a fresh connection, in ms; INT64_MAX if it failed. */
static int64_t probe(const char *socket)
{
	int64_t t0 = harness_now_ms();
	int fd = raw_connect(socket), r;

	if (fd < 0)
		return INT64_MAX;
	r = raw_hello(fd, "probe");
	close(fd);
	return r == 0 ? harness_now_ms() - t0 : INT64_MAX;
}

static void check_answered_flood(const char *socket)
{
	pid_t pids[FLOODERS];
	unsigned probes = 0, good = 0, left = FLOODERS;
	int64_t t0 = harness_now_ms(), end = t0 + 60000, worst = 0, dt;

	for (unsigned i = 0; i < FLOODERS; i++) {
		pids[i] = harness_fork();
		if (pids[i] == 0)
			flooder_main(socket);
	}
	while (left && harness_now_ms() < end) {
		dt = probe(socket);
		worst = dt > worst ? dt : worst;
		probes++;
		usleep(20000);
		for (unsigned i = 0; i < FLOODERS; i++) {
			int status;

			if (pids[i] && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				good += WIFEXITED(status) && WEXITSTATUS(status) == 0;
				pids[i] = 0;
				left--;
			}
		}
	}
	dt = harness_now_ms() - t0;
	for (unsigned i = 0; i < FLOODERS; i++)
		if (pids[i])
			harness_wait_child(pids[i], 0, "flooder");
	ok(good == FLOODERS, "%u clients x %u requests: every answer the right refusal (%u good)",
	   FLOODERS, PER_FLOODER, good);
	tap_diag("%u requests answered in %lld ms (%lld/s)", FLOODERS * PER_FLOODER, (long long)dt,
		 (long long)(FLOODERS * PER_FLOODER * 1000ll / (dt ? dt : 1)));
	ok(worst < PROBE_MAX_MS,
	   "meanwhile %u probes connected and said HELLO, the slowest in %lld ms", probes,
	   (long long)worst);
}

/* Never reads: the daemon must give up on it, not wait for it. */
static void check_unread(const char *socket, pid_t dmad_pid)
{
	struct dmad_proto_hdr h = hdr(99, 1);
	struct procstat before, after;
	static struct raw_msg m;
	unsigned sent = 0, replies = 0;
	int64_t end;
	int fd = raw_connect(socket), r = 0;

	if (fd < 0 || raw_hello(fd, "unread") != 0)
		tap_bail("connect: %d", fd);
	procstat_read(dmad_pid, &before);
	/* Blocking sends: they stop only when the daemon stops taking them. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){.tv_sec = 2},
		       sizeof(struct timeval)) < 0)
		tap_bail("SO_SNDTIMEO: %s", strerror(errno));
	for (; sent < UNREAD_SENDS; sent++)
		if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) < 0)
			break;
	/* What was answered before the drop is still there to read, then the end. */
	end = harness_now_ms() + DROP_WAIT_MS;
	while (harness_now_ms() < end) {
		r = raw_recv(fd, &m, DROP_WAIT_MS);
		if (r < 0)
			break;
		replies++;
	}
	ok(r == RAW_CLOSED,
	   "a client sending %u requests without reading is dropped after %u "
	   "replies (%d)",
	   sent, replies, r);
	close(fd);
	usleep(200000);
	procstat_read(dmad_pid, &after);
	ok(after.fds <= before.fds - 1, "the daemon let go of its connection (fds %d -> %d)",
	   before.fds, after.fds);
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	int fd;

	harness_watchdog(150);
	d = harness_dmad_start(NULL);
	bystander_start(&b, d->socket);
	check_answered_flood(d->socket);
	check_unread(d->socket, d->pid);
	fd = raw_connect(d->socket);
	ok(fd >= 0 && raw_hello(fd, "after") == 0, "a new client is served after all of it");
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
