/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the daemon's control-message handling, client_handle()
 * and everything behind it (regions, channels, status, admin checks), with
 * the daemon's own code and a real, minimal EAL (no hugepages, no devices:
 * channels fall back to the CPU). Each input is one client's whole session:
 * messages go through a real SOCK_SEQPACKET socketpair with real fds
 * attached, are received the way the control loop receives them, and the
 * client is closed and reaped at the end.
 *
 * Checked after every message: exactly one reply, well formed, to that
 * request, with a status <= 0; quotas hold; an accepted region lies inside
 * the memfd it came from, but for a request of the type and seq last
 * answered (minor 11 on: answered again as then, client_replay.c), which
 * must add no region and no channel. After every input: no fd, no
 * allocation and no quota charge left.
 *
 * Input: records of {spec, 2-byte length, message}. spec bits 0-2: how
 * many fds to attach (5: nine, more than the daemon's control buffer);
 * bits 3-5: their kind (see make_fd()); bit 6: the client loses its admin
 * credential; bit 7: fix magic, version and length up so the body is reached.
 *
 * Two requests are defused, for they reach outside this process: DEV_ADD
 * is sent without the admin credential (its devargs go to DPDK's device
 * probing, whose devices would outlive the input), and RX_OPEN names an
 * interface that does not exist (an XDP program must not land on this
 * machine's network). Their own checks up to there are fuzzed all the same.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <rte_eal.h>

#include "client.h"
#include "dmad_rx.h"
#include "log.h"

#define MAX_MSG	     (DMAD_PROTO_REQ_MAX + 64)
#define MAX_SEND_FDS 9
#define MEMFD_BIG    (64u << 10)
#define NO_IFNAME    "dmadfuzz0"
#define QUIET	     (LOG_EMERG - 1) /* every refusal is logged: keep the run quiet */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {(*argv)[0],
		       "--no-huge",
		       "--no-pci",
		       "--no-shconf",
		       "--no-telemetry",
		       "--iova-mode=va",
		       "--log-level=*:error",
		       "-l",
		       "0",
		       "-m",
		       "32",
		       NULL};

	(void)argc;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0)
		abort();
	log_max_level = QUIET;
	dmad.cfg.max_regions = 256;
	dmad.cfg.max_channels = 64;
	dmad.cfg.max_bytes_mapped = 64ull << 30;
	/* Limits in all and per user are dmad's defaults' business, not this
	 * target's: none, so that every request reaches its handler. */
	for (int k = 0; k < QUOTA_KINDS; k++)
		dmad.cfg.limit[k] = dmad.cfg.user_limit[k] = QUOTA_UNLIMITED;
	dmad.copybreak = 256;
	return 0;
}

static int sealed_memfd(off_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		abort();
	return fd;
}

/* One fd of @kind; *ret_size is its length when it is a memfd, else 0. */
static int make_fd(unsigned kind, uint64_t *ret_size)
{
	int fd, p[2];

	*ret_size = 0;
	switch (kind) {
	case 0:
		*ret_size = MEMFD_BIG;
		return sealed_memfd(MEMFD_BIG);
	case 1:
		*ret_size = 4096;
		return sealed_memfd(4096);
	case 2: /* unsealed */
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, MEMFD_BIG) < 0)
			abort();
		return fd;
	case 3:
		if (pipe2(p, O_CLOEXEC) < 0)
			abort();
		close(p[1]);
		return p[0];
	case 4:
		return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case 5:
		return open("/", O_PATH | O_CLOEXEC);
	case 6:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	default: /* sealed, and empty */
		return sealed_memfd(0);
	}
}

static void send_one(int fd, const uint8_t *buf, size_t len, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_SEND_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		abort();
}

/* As control.c receives a request, with recvmsg() in place of io_uring. */
static ssize_t recv_request(struct client *c)
{
	return recvmsg(c->fd, client_recv_prepare(c), MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
}

struct reply {
	struct dmad_proto_hdr h;
	uint8_t body[DMAD_PROTO_MSG_MAX];
	ssize_t n;
	unsigned nfds;
};

/* Every message the daemon sent since the last call; fds closed. */
static unsigned drain_replies(int fd, struct reply *last)
{
	unsigned count = 0;

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} u;
		struct iovec iov[2] = {{&last->h, sizeof(last->h)},
				       {last->body, sizeof(last->body)}};
		struct msghdr msg = {.msg_iov = iov,
				     .msg_iovlen = 2,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return count;
		last->n = n;
		last->nfds = 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(f);
				last->nfds++;
			}
		}
		count++;
	}
}

static void check_reply(const struct dmad_proto_hdr *req, size_t req_len, const struct reply *r)
{
	if (r->n < (ssize_t)sizeof(r->h) || r->h.magic != DMAD_PROTO_MAGIC ||
	    r->h.major != DMAD_PROTO_VERSION_MAJOR || !(r->h.flags & DMAD_PROTO_F_REPLY) ||
	    r->h.len != (size_t)r->n - sizeof(r->h) || r->h.status > 0)
		abort();
	/* A header too short to read is answered with a zeroed one. */
	if (req_len >= sizeof(*req) && (r->h.type != req->type || r->h.seq != req->seq))
		abort();
	if (r->h.status == 0 && req->type == DMAD_PROTO_CHAN_GET && r->nfds != 2)
		abort();
	if (r->h.status < 0 && (r->h.len || r->nfds))
		abort();
}

static void check_client(const struct client *c, const struct reply *r, uint64_t memfd_size)
{
	struct dmad_proto_region_reg_rep rep;
	const struct region_view *v;

	if (c->nregions > dmad.cfg.max_regions || c->nchans > dmad.cfg.max_channels ||
	    c->bytes_mapped > dmad.cfg.max_bytes_mapped)
		abort();
	if (r->h.type != DMAD_PROTO_REGION_REG || r->h.status != 0)
		return;
	if (r->h.len != sizeof(rep))
		abort();
	memcpy(&rep, r->body, sizeof(rep));
	v = c->regions && rep.region_id < c->regions->n ? c->regions->slot[rep.region_id] : NULL;
	if (!v || !v->len || v->len > memfd_size)
		abort();
}

static void run_session(int peer, struct client *c, const uint8_t *data, size_t size)
{
	static uint8_t msg[MAX_MSG];
	static struct reply r;

	while (size >= 3) {
		unsigned spec = data[0], nfds = spec & 7, kind = (spec >> 3) & 7, i;
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		struct dmad_proto_hdr h = {0};
		int fds[MAX_SEND_FDS];
		uint64_t memfd_size = 0;
		uint32_t nregions, nchans;
		bool admin, again;
		ssize_t n;

		data += 3;
		size -= 3;
		len = len < size ? len : size;
		len = len < sizeof(msg) ? len : sizeof(msg);
		memcpy(msg, data, len);
		data += len;
		size -= len;
		/* An empty packet reads as end of file: the control loop closes the client. */
		if (!len)
			return;
		if ((spec & 0x80) && len >= sizeof(h)) {
			memcpy(&h, msg, sizeof(h));
			h.magic = DMAD_PROTO_MAGIC;
			h.major = DMAD_PROTO_VERSION_MAJOR;
			h.len = (uint32_t)(len - sizeof(h));
			h.flags &= (uint16_t)~DMAD_PROTO_F_REPLY;
			memcpy(msg, &h, sizeof(h));
		}
		if (spec & 0x40)
			c->admin = false;
		memcpy(&h, msg, len < sizeof(h) ? len : sizeof(h));
		admin = c->admin;
		if (h.type == DMAD_PROTO_DEV_ADD)
			c->admin = false;
		if (h.type == DMAD_PROTO_RX_OPEN && len >= sizeof(h) + DMAD_RX_IFNAME_MAX &&
		    msg[sizeof(h)] && memchr(msg + sizeof(h), 0, DMAD_RX_IFNAME_MAX))
			strcpy((char *)msg + sizeof(h), NO_IFNAME);
		nfds = nfds == 5 ? MAX_SEND_FDS : nfds > 5 ? 0 : nfds;
		for (i = 0; i < nfds; i++)
			fds[i] = make_fd(kind, &memfd_size);
		send_one(peer, msg, len, fds, nfds);
		for (i = 0; i < nfds; i++)
			close(fds[i]);

		n = recv_request(c);
		if (n <= 0)
			abort();
		again = c->last.client_id && len >= sizeof(h) &&
			h.minor >= DMAD_PROTO_MINOR_REPLAY && c->last.seq == h.seq &&
			c->last.type == h.type;
		nregions = c->nregions;
		nchans = c->nchans;
		client_handle(c, n);
		c->admin = admin;
		log_max_level = QUIET; /* LOG_LEVEL may have raised it */
		if (drain_replies(peer, &r) != 1)
			abort();
		check_reply(&h, len, &r);
		if (again && (c->nregions != nregions || c->nchans != nchans))
			abort();
		if (!again)
			check_client(c, &r, memfd_size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], fds_before = count_fds();
	struct client *c;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	c = client_new(sv[0]);
	if (!c)
		abort();
	run_session(sv[1], c, data, size);

	client_close(c);
	/* No worker runs: nothing is in flight, so everything drains at once. */
	if (!client_reap(c))
		abort();
	client_free(c); /* closes sv[0] */
	close(sv[1]);
	if (dmad.clients || count_fds() != fds_before)
		abort();
	/* Whatever the session mapped, it gave back. */
	for (int k = 0; k < QUOTA_KINDS; k++)
		if (quota_used(k))
			abort();
	return 0;
}
