/* SPDX-License-Identifier: MIT */
/*
 * A request sent again with the seq it had (protocol minor 11 on, as the
 * library does after RESTARTED) is answered as it was the first time and
 * not done twice; any other request is done, and a client of an older
 * minor gets each request done, as before. Without a crash: the request
 * that waited in the socket through one and its copy sent behind it meet
 * exactly this (test-fdstore-request-crash covers the crash itself).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"
#include "rawproto.h"

static const char *sock;

/* One request of protocol @minor, seq @seq, and its reply in @m. */
static int req(int fd, uint16_t minor, uint16_t type, uint32_t seq, const void *body, uint32_t len,
	       int memfd, struct raw_msg *m)
{
	uint8_t buf[sizeof(struct dmad_proto_hdr) + 64];
	struct dmad_proto_hdr h = {.magic = DMAD_PROTO_MAGIC,
				   .major = DMAD_PROTO_VERSION_MAJOR,
				   .minor = minor,
				   .type = type,
				   .seq = seq,
				   .len = len};
	int r;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, len);
	r = raw_send(fd, buf, sizeof(h) + len, &memfd, memfd >= 0);
	if (r < 0)
		return r;
	r = raw_recv(fd, m, RAW_TIMEOUT_MS);
	if (r < 0)
		return r;
	if (m->hdr.type != type || m->hdr.seq != seq)
		return RAW_MISMATCH;
	return m->hdr.status;
}

static int reg(int fd, uint16_t minor, uint32_t seq, uint32_t *ret_id)
{
	struct dmad_proto_region_reg_req rq = {.len = 65536};
	struct raw_msg m;
	void *map;
	int memfd = raw_memfd(65536, true, &map);
	int r = req(fd, minor, DMAD_PROTO_REGION_REG, seq, &rq, sizeof(rq), memfd, &m);

	close(memfd);
	if (r == 0)
		*ret_id = ((const struct dmad_proto_region_reg_rep *)m.body)->region_id;
	return r;
}

/* CHAN_GET: its id and its ring's inode (the fds are closed). */
static int get(int fd, uint16_t minor, uint32_t seq, uint32_t *ret_id, ino_t *ret_ino)
{
	struct dmad_proto_chan_get_req rq = {.caps = DMAD_PROTO_CAP_COPY};
	struct raw_msg m;
	struct stat st = {0};
	int r = req(fd, minor, DMAD_PROTO_CHAN_GET, seq, &rq, sizeof(rq), -1, &m);

	if (r == 0) {
		*ret_id = ((const struct dmad_proto_chan_get_rep *)m.body)->chan_id;
		if (m.nfds != 2 || fstat(m.fds[0], &st) < 0)
			r = -EBADF;
		*ret_ino = st.st_ino;
	}
	for (unsigned i = 0; i < m.nfds; i++)
		close(m.fds[i]);
	return r;
}

/* The "replay" client's regions and channels in `dmactl status`. */
static bool holds(long regions, long chans)
{
	struct jv *v = harness_status_json(sock);
	const struct jv *c;
	bool found = false;

	for (size_t i = 0; v && (c = jv_at(jv_get(v, "clients"), i)); i++)
		if (!strcmp(jv_str(jv_get(c, "name"), ""), "replay")) {
			found = (long)jv_num(jv_get(c, "regions"), -1) == regions &&
				(long)jv_num(jv_get(c, "channels"), -1) == chans;
			if (!found)
				tap_diag("it holds %.0f region(s), %.0f channel(s)",
					 jv_num(jv_get(c, "regions"), -1),
					 jv_num(jv_get(c, "channels"), -1));
		}
	jv_free(v);
	return found;
}

int main(void)
{
	const uint16_t now = DMAD_PROTO_MINOR_REPLAY, old = DMAD_PROTO_MINOR_REPLAY - 1;
	struct harness_dmad *d;
	uint32_t a = 0, b = 0, c1 = 0, c2 = 0;
	ino_t i1 = 0, i2 = 0;
	struct raw_msg m;
	int fd, r1, r2;

	harness_watchdog(60);
	d = harness_dmad_start(NULL);
	sock = d->socket;
	fd = raw_connect(sock);
	if (fd < 0 || raw_hello(fd, "replay") != 0)
		tap_bail("connect and hello: %s", strerror(fd < 0 ? -fd : EPROTO));

	r1 = reg(fd, now, 100, &a);
	r2 = reg(fd, now, 100, &b);
	ok(r1 == 0 && r2 == 0 && a == b && holds(1, 0),
	   "REGION_REG sent again (same seq): the same region, not a second (%u, %u)", a, b);
	r1 = get(fd, now, 101, &c1, &i1);
	r2 = get(fd, now, 101, &c2, &i2);
	ok(r1 == 0 && r2 == 0 && c1 == c2 && i1 == i2 && holds(1, 1),
	   "CHAN_GET sent again: the same channel and ring (%u, %u)", c1, c2);
	r1 = req(fd, now, DMAD_PROTO_REGION_UNREG, 102,
		 &(struct dmad_proto_region_unreg_req){.region_id = a}, 8, -1, &m);
	r2 = req(fd, now, DMAD_PROTO_REGION_UNREG, 102,
		 &(struct dmad_proto_region_unreg_req){.region_id = a}, 8, -1, &m);
	ok(r1 == 0 && r2 == 0 && holds(0, 1),
	   "REGION_UNREG sent again: answered 0 again, not -EINVAL (%d, %d)", r1, r2);
	r1 = reg(fd, now, 103, &a);
	r2 = reg(fd, now, 104, &b);
	ok(r1 == 0 && r2 == 0 && a != b && holds(2, 1), "a new seq is a new request (%u, %u)", a,
	   b);
	r1 = req(fd, now, DMAD_PROTO_CHAN_PUT, 104,
		 &(struct dmad_proto_chan_put_req){.chan_id = c1}, 8, -1, &m);
	ok(r1 == 0 && holds(2, 0), "another type with the last seq is done (%d)", r1);
	r1 = reg(fd, old, 105, &a);
	r2 = reg(fd, old, 105, &b);
	ok(r1 == 0 && r2 == 0 && a != b && holds(4, 0),
	   "minor %u: each request done, the same seq or not (%u, %u)", old, a, b);
	close(fd);
	harness_dmad_finish(d);
	return tap_done();
}
