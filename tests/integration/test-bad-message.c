/* SPDX-License-Identifier: MIT */
/*
 * Malformed control messages on a raw socket. Framing garbage gets an error
 * reply or a closed connection, never silence or success; a bad request in
 * a good frame gets an error reply and the connection goes on working; fds
 * that ride along on a refused request are closed by the daemon; a client
 * that floods without reading cannot stall it. Another client copies and
 * verifies throughout, and the daemon outlives all of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

static struct raw_msg m;
static const char *sock;

static int conn(bool hello)
{
	int fd = raw_connect(sock);

	if (fd < 0)
		tap_bail("connect %s: %s", sock, strerror(-fd));
	if (hello && raw_hello(fd, "bad-message") != 0)
		tap_bail("HELLO on a fresh connection failed");
	return fd;
}

static struct dmad_proto_hdr hdr(uint16_t type, uint32_t len)
{
	return (struct dmad_proto_hdr){.magic = DMAD_PROTO_MAGIC,
				       .major = DMAD_PROTO_VERSION_MAJOR,
				       .minor = DMAD_PROTO_VERSION_MINOR,
				       .type = type,
				       .seq = 4242,
				       .len = len};
}

/* Framing garbage: an error reply or a closed connection, within bounds. */
static void refused_or_closed(const void *buf, size_t len, const char *what)
{
	int fd = conn(true), r, status;

	r = raw_send(fd, buf, len, NULL, 0);
	if (r == 0)
		r = raw_recv(fd, &m, RAW_TIMEOUT_MS);
	status = r > 0 ? m.hdr.status : 0;
	if (r == RAW_CLOSED)
		ok(1, "%s: connection closed", what);
	else
		ok(r > 0 && m.hdr.magic == DMAD_PROTO_MAGIC && status < 0,
		   "%s: error reply (recv %d, status %d)", what, r, status);
	close(fd);
}

/* The connection still serves requests: a channel can be taken and put. */
static bool works(int fd)
{
	struct dmad_proto_chan_get_req get = {.caps = DMAD_PROTO_CAP_COPY};
	struct dmad_proto_chan_put_req put = {0};
	struct dmad_proto_chan_get_rep rep;
	int r = raw_request(fd, DMAD_PROTO_CHAN_GET, &get, sizeof(get), NULL, 0, &m);

	if (r != 0 || m.body_len < sizeof(rep))
		return false;
	for (unsigned int i = 0; i < m.nfds; i++)
		close(m.fds[i]);
	memcpy(&rep, m.body, sizeof(rep));
	put.chan_id = rep.chan_id;
	return raw_request(fd, DMAD_PROTO_CHAN_PUT, &put, sizeof(put), NULL, 0, NULL) == 0;
}

/* A bad request in a good frame: error reply, and the connection goes on. */
static void refused(int fd, uint16_t type, const void *body, uint32_t len, const int *fds,
		    unsigned int nfds, const char *what)
{
	int r = raw_request(fd, type, body, len, fds, nfds, NULL);

	ok(r < 0 && raw_is_status(r), "%s: error reply (%d)", what, r);
	ok(works(fd), "%s: the connection still works", what);
}

/* Did the daemon close its copy of the write end we sent it? */
static bool closed_by_daemon(int read_end)
{
	struct pollfd p = {.fd = read_end, .events = POLLIN};

	return poll(&p, 1, 3000) == 1 && (p.revents & POLLHUP);
}

static void check_framing(void)
{
	uint8_t big[8192] = {0};
	struct {
		struct dmad_proto_hdr h;
		struct dmad_proto_hello_req body;
	} msg = {hdr(DMAD_PROTO_HELLO, sizeof(msg.body)), {"x"}};
	struct dmad_proto_hdr h;
	int fd, r, status;

	refused_or_closed(&msg, 10, "truncated header (10 bytes)");
	msg.h.magic = 0xdeadbeef;
	refused_or_closed(&msg, sizeof(msg), "wrong magic");
	msg.h = hdr(DMAD_PROTO_CHAN_GET, 100);
	refused_or_closed(&msg, sizeof(msg.h) + 8, "len 100 with an 8-byte body");
	msg.h = hdr(DMAD_PROTO_CHAN_GET, 0);
	refused_or_closed(&msg, sizeof(msg.h) + 8, "len 0 with an 8-byte body");
	msg.h = hdr(DMAD_PROTO_CHAN_GET, UINT32_MAX);
	refused_or_closed(&msg, sizeof(msg.h) + 8, "len 4 GiB-1 with an 8-byte body");
	msg.h = hdr(DMAD_PROTO_CHAN_GET, 8);
	msg.h.flags = DMAD_PROTO_F_REPLY;
	refused_or_closed(&msg, sizeof(msg.h) + 8, "request flagged as a reply");
	h = hdr(DMAD_PROTO_HELLO, sizeof(big) - sizeof(h));
	memcpy(big, &h, sizeof(h));
	refused_or_closed(big, sizeof(big), "8 KiB message (over DMAD_PROTO_REQ_MAX)");

	/* A zero-length packet reads as EOF on SEQPACKET: closing is fair too. */
	fd = conn(true);
	r = raw_send(fd, "", 0, NULL, 0);
	if (r == 0) {
		struct dmad_proto_chan_get_req get = {.caps = DMAD_PROTO_CAP_COPY};

		r = raw_request(fd, DMAD_PROTO_CHAN_GET, &get, sizeof(get), NULL, 0, NULL);
	}
	ok(r == 0 || r == RAW_CLOSED, "empty packet: ignored or connection closed (%d)", r);
	close(fd);

	/* An unknown major version gets a clear error, not silence. */
	fd = conn(false);
	msg.h = hdr(DMAD_PROTO_HELLO, sizeof(msg.body));
	msg.h.major = DMAD_PROTO_VERSION_MAJOR + 1;
	r = raw_send(fd, &msg, sizeof(msg), NULL, 0);
	if (r == 0)
		r = raw_recv(fd, &m, RAW_TIMEOUT_MS);
	status = r > 0 ? m.hdr.status : 0;
	ok(r > 0 && status < 0, "HELLO with major version %u: error reply (recv %d, status %d)",
	   DMAD_PROTO_VERSION_MAJOR + 1, r, status);
	close(fd);
}

static void check_requests(void)
{
	struct dmad_proto_chan_get_req get = {.caps = 1u << 31},
				       get_ok = {.caps = DMAD_PROTO_CAP_COPY};
	struct dmad_proto_region_reg_req reg = {.len = 4096};
	struct dmad_proto_chan_put_req put = {.chan_id = 12345};
	struct dmad_proto_region_unreg_req unreg = {.region_id = 999};
	struct dmad_proto_hello_req hello = {"again"};
	uint32_t small = 0;
	void *map;
	int fd, p[2], memfd = raw_memfd(4096, true, &map), r;

	/* Before HELLO nothing else is served; the connection can still say hello. */
	fd = conn(false);
	r = raw_request(fd, DMAD_PROTO_CHAN_GET, &get_ok, sizeof(get_ok), NULL, 0, NULL);
	ok(r < 0 && raw_is_status(r), "CHAN_GET before HELLO: error reply (%d)", r);
	r = raw_request(fd, DMAD_PROTO_HELLO, &small, sizeof(small), NULL, 0, NULL);
	ok(r < 0 && raw_is_status(r), "HELLO with a 4-byte body: error reply (%d)", r);
	ok(raw_hello(fd, "late") == 0 && works(fd), "a proper HELLO afterwards works");

	refused(fd, 99, NULL, 0, NULL, 0, "unknown type 99");
	refused(fd, DMAD_PROTO_EVENT, NULL, 0, NULL, 0, "an EVENT sent by the client");
	refused(fd, DMAD_PROTO_HELLO, &hello, sizeof(hello), NULL, 0, "a second HELLO");
	refused(fd, DMAD_PROTO_REGION_REG, &reg, sizeof(reg), NULL, 0, "REGION_REG without an fd");
	refused(fd, DMAD_PROTO_REGION_REG, &reg, 4, &memfd, 1, "REGION_REG with a 4-byte body");
	refused(fd, DMAD_PROTO_CHAN_GET, &get, sizeof(get), NULL, 0, "CHAN_GET with unknown caps");
	refused(fd, DMAD_PROTO_CHAN_GET, &get, 2, NULL, 0, "CHAN_GET with a 2-byte body");
	refused(fd, DMAD_PROTO_CHAN_PUT, &put, sizeof(put), NULL, 0, "CHAN_PUT of no channel");
	refused(fd, DMAD_PROTO_REGION_UNREG, &unreg, sizeof(unreg), NULL, 0,
		"REGION_UNREG of no region");

	/* fds on refused requests must not pile up in the daemon. */
	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	refused(fd, DMAD_PROTO_REGION_REG, &reg, sizeof(reg), &p[1], 1, "REGION_REG of a pipe");
	close(p[1]);
	ok(closed_by_daemon(p[0]), "the daemon closed the pipe it was sent");
	close(p[0]);
	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	refused(fd, DMAD_PROTO_CHAN_GET, &get, sizeof(get), &p[1], 1, "CHAN_GET carrying an fd");
	close(p[1]);
	ok(closed_by_daemon(p[0]), "the daemon closed the fd that came with CHAN_GET");
	close(p[0]);
	close(fd);
	close(memfd);
}

/* Garbage as fast as the socket takes it, never reading a reply. */
static void check_flood(void)
{
	struct dmad_proto_hdr h = hdr(99, 0);
	unsigned int sent = 0;
	int fd = conn(true), fd2;
	int64_t t0;

	for (; sent < 100000; sent++)
		if (send(fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	t0 = harness_now_ms();
	fd2 = conn(true);
	ok(works(fd2), "after %u unread garbage messages, another client is served (%lld ms)", sent,
	   (long long)(harness_now_ms() - t0));
	close(fd2);
	close(fd);
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	int fd;

	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	sock = d->socket;
	bystander_start(&b, sock);
	check_framing();
	check_requests();
	check_flood();
	fd = conn(true);
	ok(works(fd), "a new connection says HELLO and gets a channel");
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	ok(harness_dmad_alive(d), "dmad survived all of it");
	harness_dmad_finish(d);
	return tap_done();
}
