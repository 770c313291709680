/* SPDX-License-Identifier: MIT */
/*
 * File descriptors a client sends that the daemon must not take: too many
 * of them (up to the kernel's 253 per message) and every wrong kind (pipe,
 * directory, O_PATH, device, socket, eventfd, plain file, unsealed or
 * unsealable memfd, sealed but too short, sealed against the daemon's own
 * writes). Each is refused with an error reply on a connection that goes on
 * working, every fd that came along is closed by the daemon (its fd count
 * returns to where it was), and another client copies on undisturbed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "procstat.h"
#include "rawproto.h"

#define LEN	  4096u
#define SCM_MAX	  RAW_FDS_MAX
#define SETTLE_MS 2000

static struct raw_msg m;
static uint32_t seq = 1000;

/* REGION_REG (or @type) with @n fds, and its reply's status. */
static int request_with_fds(int sock, uint16_t type, uint64_t len, const int *fds, unsigned n)
{
	struct {
		struct dmad_proto_hdr h;
		struct dmad_proto_region_reg_req req;
	} msg = {{.magic = DMAD_PROTO_MAGIC,
		  .major = DMAD_PROTO_VERSION_MAJOR,
		  .minor = DMAD_PROTO_VERSION_MINOR,
		  .type = type,
		  .seq = ++seq,
		  .len = type == DMAD_PROTO_STATUS ? 0 : sizeof(msg.req)},
		 {.len = len}};
	int r;

	r = raw_send(sock, &msg, sizeof(msg.h) + msg.h.len, fds, n);
	if (r < 0)
		return r;
	r = raw_recv(sock, &m, RAW_TIMEOUT_MS);
	if (r < 0)
		return r;
	if (m.hdr.type != type || m.hdr.seq != seq)
		return RAW_MISMATCH;
	for (unsigned i = 0; i < m.nfds; i++)
		close(m.fds[i]);
	return m.hdr.status;
}

/* Has every holder of @write_end's pipe but us let go of it? */
static bool pipe_released(int read_end)
{
	struct pollfd p = {.fd = read_end, .events = POLLIN};

	return poll(&p, 1, SETTLE_MS) == 1 && (p.revents & POLLHUP);
}

/* Send @n pipe write ends (after @first, if >= 0); refused, all let go of. */
static void check_pipes(int sock, uint16_t type, int first, unsigned n, const char *what)
{
	int rd[SCM_MAX], wr[SCM_MAX + 1], p[2], r;
	unsigned k = 0, released = 0, i;

	if (first >= 0)
		wr[k++] = first;
	for (i = 0; i < n; i++) {
		if (pipe2(p, O_CLOEXEC) < 0)
			tap_bail("pipe: %s", strerror(errno));
		rd[i] = p[0];
		wr[k++] = p[1];
	}
	r = request_with_fds(sock, type, LEN, wr, k);
	ok(r < 0 && raw_is_status(r), "%s: error reply (%d)", what, r);
	for (i = 0; i < k; i++)
		if (first < 0 || i > 0)
			close(wr[i]);
	for (i = 0; i < n; i++) {
		released += pipe_released(rd[i]);
		close(rd[i]);
	}
	ok(released == n, "%s: the daemon closed all %u fds (%u)", what, n, released);
}

static int memfd(unsigned flags, off_t size, int seals)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC | flags);

	if (fd < 0 || ftruncate(fd, size) < 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) < 0))
		tap_bail("memfd: %s", strerror(errno));
	return fd;
}

/* One fd of a wrong kind: refused, and the connection still works. */
static void check_kind(int sock, int fd, uint64_t len, const char *what)
{
	uint32_t id;
	int r;

	if (fd < 0)
		tap_bail("%s: %s", what, strerror(errno));
	r = request_with_fds(sock, DMAD_PROTO_REGION_REG, len, &fd, 1);
	ok(r < 0 && raw_is_status(r), "%s: refused (%d)", what, r);
	close(fd);
	fd = memfd(MFD_ALLOW_SEALING, LEN, F_SEAL_SHRINK);
	r = raw_region_reg(sock, fd, LEN, &id);
	close(fd);
	if (r == 0) {
		struct dmad_proto_region_unreg_req unreg = {.region_id = id};

		r = raw_request(sock, DMAD_PROTO_REGION_UNREG, &unreg, sizeof(unreg), NULL, 0,
				NULL);
	}
	ok(r == 0, "%s: a good region can be registered and unregistered after it (%d)", what, r);
}

static void check_kinds(int sock)
{
	char file[] = "/tmp/dmad-hostile.XXXXXX";
	int sp[2], plain = mkstemp(file);

	if (plain < 0 || ftruncate(plain, LEN) < 0)
		tap_bail("mkstemp: %s", strerror(errno));
	unlink(file);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		tap_bail("socketpair: %s", strerror(errno));
	close(sp[1]);

	check_kind(sock, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), LEN, "a directory");
	check_kind(sock, open("/", O_PATH | O_CLOEXEC), LEN, "an O_PATH fd");
	check_kind(sock, open("/dev/zero", O_RDWR | O_CLOEXEC), LEN, "/dev/zero");
	check_kind(sock, sp[0], LEN, "a socket");
	check_kind(sock, eventfd(0, EFD_CLOEXEC), LEN, "an eventfd");
	check_kind(sock, plain, LEN, "a plain file in /tmp");
	check_kind(sock, memfd(MFD_ALLOW_SEALING, LEN, 0), LEN, "an unsealed memfd");
	check_kind(sock, memfd(0, LEN, 0), LEN, "a memfd that cannot be sealed");
	check_kind(sock, memfd(MFD_ALLOW_SEALING, LEN, F_SEAL_SHRINK | F_SEAL_GROW), 2 * LEN,
		   "a sealed memfd shorter than the length asked");
	check_kind(sock, memfd(MFD_ALLOW_SEALING, 0, F_SEAL_SHRINK), LEN, "an empty sealed memfd");
	check_kind(sock, memfd(MFD_ALLOW_SEALING, LEN, F_SEAL_SHRINK | F_SEAL_WRITE), LEN,
		   "a memfd sealed against writes");
	check_kind(sock, memfd(MFD_ALLOW_SEALING, LEN, F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE), LEN,
		   "a memfd sealed against future writes");
}

/* Fd count back to @want within SETTLE_MS (the daemon closes them at once). */
static bool fds_back(pid_t pid, int want, int *ret_now)
{
	int64_t end = harness_now_ms() + SETTLE_MS;
	struct procstat s = {.fds = -1};

	do {
		if (procstat_read(pid, &s) == 0 && s.fds <= want)
			break;
		usleep(20000);
	} while (harness_now_ms() < end);
	*ret_now = s.fds;
	return s.fds >= 0 && s.fds <= want;
}

int main(void)
{
	struct dmad_proto_chan_get_req get = {.caps = DMAD_PROTO_CAP_COPY};
	struct harness_dmad *d;
	struct procstat before;
	struct bystander b;
	int sock, good, now = -1, r;

	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	bystander_start(&b, d->socket);
	sock = raw_connect(d->socket);
	if (sock < 0 || raw_hello(sock, "hostile-fds") != 0)
		tap_bail("raw connection and HELLO failed");
	/* The bystander's channel is in place once it has copied. */
	usleep(300000);
	if (procstat_read(d->pid, &before) < 0)
		tap_bail("cannot read /proc/%d", d->pid);

	check_pipes(sock, DMAD_PROTO_REGION_REG, -1, 1, "REGION_REG with a pipe");
	check_pipes(sock, DMAD_PROTO_REGION_REG, -1, DMAD_PROTO_FDS_MAX + 1,
		    "REGION_REG with 3 pipes");
	check_pipes(sock, DMAD_PROTO_REGION_REG, -1, 8, "REGION_REG with 8 pipes");
	check_pipes(sock, DMAD_PROTO_REGION_REG, -1, 9,
		    "REGION_REG with 9 pipes (past its buffer)");
	check_pipes(sock, DMAD_PROTO_REGION_REG, -1, SCM_MAX - 1, "REGION_REG with 252 pipes");
	good = memfd(MFD_ALLOW_SEALING, LEN, F_SEAL_SHRINK);
	check_pipes(sock, DMAD_PROTO_REGION_REG, good, 1,
		    "REGION_REG with a good memfd and a pipe");
	close(good);
	check_pipes(sock, DMAD_PROTO_STATUS, -1, 2, "STATUS carrying 2 pipes");
	check_pipes(sock, DMAD_PROTO_CHAN_GET, -1, SCM_MAX, "CHAN_GET carrying 253 pipes");
	check_kinds(sock);

	r = raw_request(sock, DMAD_PROTO_CHAN_GET, &get, sizeof(get), NULL, 0, &m);
	for (unsigned i = 0; r == 0 && i < m.nfds; i++)
		close(m.fds[i]);
	ok(r == 0, "the same connection still gets a channel (%d)", r);
	close(sock);
	r = fds_back(d->pid, before.fds, &now);
	ok(r, "the daemon holds no fd it was sent: %d open, %d before", now, before.fds);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	ok(harness_dmad_alive(d), "dmad survived all of it");
	harness_dmad_finish(d);
	return tap_done();
}
