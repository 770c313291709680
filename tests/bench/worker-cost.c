/* SPDX-License-Identifier: MIT */
/*
 * worker-cost: dmad's worker, alone in one process, so that callgrind can
 * count what it spends per copy. A whole dmad under valgrind does not work:
 * its control thread sleeps in io_uring_enter, which valgrind runs as a
 * non-blocking call, and the big lock then starves the worker.
 *
 * Here the main thread is both dmad's control thread and its one client:
 * it starts EAL, the engines and the worker as dmad's main() does, serves
 * its own requests through client_handle() over a socketpair, writes COPY
 * descriptors into the ring itself, and calls hotplug_remove() and
 * hotplug_tick() for a removal. The worker is the real worker_main() on
 * its own lcore.
 *
 * Phases, each between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT
 * (no-ops without valgrind): "idle-before" (no copies: what an empty loop
 * costs), "before-SIZE" for each size, then the removal of the channel's
 * device (the channel moves to the other engine), "idle-after",
 * "after-SIZE". One line per phase on stdout, "phase NAME copies N loops L
 * ...", which worker-cost.sh reads; L is the worker's loop count.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <valgrind/callgrind.h>

#include "client.h"
#include "device.h"
#include "eal.h"
#include "engine.h"
#include "hotplug.h"
#include "log.h"
#include "worker.h"

#define REGION_LEN (4u << 20)
#define MAX_SIZES  8
#define STALL_S	   30.0 /* no progress this long: the worker is stuck, fail */

struct opts {
	unsigned nsizes;
	uint32_t size[MAX_SIZES];
	uint32_t copies[MAX_SIZES];
	uint32_t window; /* descriptors in flight at most */
	uint32_t batch;	 /* descriptors per sq_tail publication */
};

/* The client's end: its socket, regions and channel, as libdmaclient has them. */
struct peer {
	int fd;
	struct client *c; /* the daemon's record of us */
	uint32_t seq;
	uint8_t *src, *dst;
	uint16_t src_id, dst_id;
	struct dmad_proto_ring *ring;
	struct dmad_proto_desc *sq;
	uint32_t ring_size;
	int doorbell;
	uint32_t tail, last_cookie;
	char device[DMAD_PROTO_NAME_MAX];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Give the worker and the engine's thread the CPU; -ETIMEDOUT past @deadline. */
static int yield_until(double deadline)
{
	sched_yield();
	return now_s() > deadline ? log_error_errno(-ETIMEDOUT, "the worker made no progress") : 0;
}

static int parse_list(const char *s, uint32_t *v, unsigned max)
{
	unsigned n = 0;
	char *end;

	do {
		unsigned long x = strtoul(s, &end, 0);

		if (end == s || x == 0 || x > REGION_LEN || n == max)
			return -EINVAL;
		v[n++] = (uint32_t)x;
		s = end + 1;
	} while (*end == ',');
	return *end ? -EINVAL : (int)n;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: worker-cost [--sizes 4096,65536] [--copies N[,N...]] [--window W]\n"
		   "                   [--batch B] [--verbose]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{"sizes", required_argument, NULL, 's'},  {"copies", required_argument, NULL, 'n'},
		{"window", required_argument, NULL, 'w'}, {"batch", required_argument, NULL, 'b'},
		{"verbose", no_argument, NULL, 'v'},	  {},
	};
	int c, n = 0, ncopies = 1;

	*o = (struct opts){
		.nsizes = 1, .size = {4096}, .copies = {20000}, .window = 64, .batch = 32};
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			n = parse_list(optarg, o->size, MAX_SIZES);
			o->nsizes = n > 0 ? (unsigned)n : 0;
			break;
		case 'n':
			n = ncopies = parse_list(optarg, o->copies, MAX_SIZES);
			break;
		case 'w':
			n = parse_list(optarg, &o->window, 1);
			break;
		case 'b':
			n = parse_list(optarg, &o->batch, 1);
			break;
		case 'v':
			log_max_level = LOG_DEBUG;
			break;
		default:
			n = -EINVAL;
		}
		if (n < 0) {
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (ncopies != 1 && (unsigned)ncopies != o->nsizes)
		return log_error_errno(-EINVAL, "--copies takes one count, or one per size");
	for (unsigned i = 1; i < o->nsizes && ncopies == 1; i++)
		o->copies[i] = o->copies[0];
	if (o->window > DMAD_PROTO_SQ_ENTRIES || o->batch > o->window)
		return log_error_errno(-EINVAL, "need batch <= window <= %u",
				       DMAD_PROTO_SQ_ENTRIES);
	return 0;
}

/* dmad's main(): configuration defaults, EAL, RCU and worker 0, the engines. */
static int daemon_start(const char *argv0)
{
	config_defaults();
	if (client_init() < 0)
		return -ENOMEM;
	if (eal_start(argv0, dmad.cfg.workers, dmad.cfg.engines, NULL, NULL) < 0)
		return -EIO;
	if (workers_init() < 0)
		return -EIO;
	if (engine_cpu_create(&dmad.cpu) < 0 || engine_dmadev_setup_all() < 2)
		return log_error_errno(-ENODEV, "need two dma_skeleton engines");
	/* Every copy goes to the ring: this harness writes descriptors itself. */
	dmad.copybreak = 0;
	return workers_launch();
}

/* dmad's shutdown: stop the worker, then free what it no longer uses. */
static void daemon_stop(struct peer *p)
{
	workers_stop();
	if (p->c) {
		client_close(p->c);
		client_reap(p->c);
		client_free(p->c);
	}
	for (unsigned i = 0; i < dmad.ndev; i++)
		device_release(dmad.devs[i]);
	device_release(dmad.cpu);
	rte_free(dmad.qs);
	rte_eal_cleanup();
}

/* What control.c does for one request, with recvmsg() in place of io_uring. */
static void serve_one(struct client *c)
{
	client_handle(c, recvmsg(c->fd, client_recv_prepare(c), MSG_CMSG_CLOEXEC));
}

/* Send a request with at most one fd, have the daemon serve it, take the
 * reply (skipping events) and up to two fds. Returns the reply's status. */
static int request(struct peer *p, uint16_t type, const void *body, uint32_t len, int fd, void *rep,
		   size_t rep_len, int *ret_fds)
{
	struct dmad_proto_hdr h = {.magic = DMAD_PROTO_MAGIC,
				   .major = DMAD_PROTO_VERSION_MAJOR,
				   .minor = DMAD_PROTO_VERSION_MINOR,
				   .type = type,
				   .seq = ++p->seq,
				   .len = len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)body, len}};
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DMAD_PROTO_FDS_MAX)];
	} u = {0};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	uint8_t in[DMAD_PROTO_MSG_MAX];
	struct dmad_proto_hdr r;
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		*cm = (struct cmsghdr){.cmsg_len = CMSG_LEN(sizeof(int)),
				       .cmsg_level = SOL_SOCKET,
				       .cmsg_type = SCM_RIGHTS};
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	if (sendmsg(p->fd, &msg, 0) < 0)
		return -errno;
	serve_one(p->c);

	do {
		struct iovec riov = {in, sizeof(in)};

		msg = (struct msghdr){.msg_iov = &riov,
				      .msg_iovlen = 1,
				      .msg_control = u.buf,
				      .msg_controllen = sizeof(u.buf)};
		n = recvmsg(p->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < (ssize_t)sizeof(r))
			return n < 0 ? -errno : -EBADMSG;
		memcpy(&r, in, sizeof(r));
	} while (r.type == DMAD_PROTO_EVENT);
	if (r.seq != h.seq || r.type != type)
		return -EBADMSG;
	if (r.status)
		return r.status;
	memcpy(rep, in + sizeof(r), RTE_MIN(rep_len, (size_t)n - sizeof(r)));
	if (ret_fds) {
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

		if (!cm || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len != CMSG_LEN(sizeof(int) * DMAD_PROTO_FDS_MAX))
			return -EBADMSG;
		memcpy(ret_fds, CMSG_DATA(cm), sizeof(int) * DMAD_PROTO_FDS_MAX);
	}
	return 0;
}

static uint8_t *region_new(struct peer *p, uint16_t *ret_id)
{
	struct dmad_proto_region_reg_req req = {.len = REGION_LEN};
	struct dmad_proto_region_reg_rep rep;
	int fd = memfd_create("worker-cost", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	uint8_t *va = MAP_FAILED;
	int ret;

	if (fd >= 0 && ftruncate(fd, REGION_LEN) == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0)
		va = mmap(NULL, REGION_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ret = va == MAP_FAILED ? -errno
			       : request(p, DMAD_PROTO_REGION_REG, &req, sizeof(req), fd, &rep,
					 sizeof(rep), NULL);
	if (fd >= 0)
		close(fd);
	if (ret < 0) {
		log_error_errno(ret, "cannot register a region: %m");
		if (va != MAP_FAILED)
			munmap(va, REGION_LEN);
		return NULL;
	}
	*ret_id = (uint16_t)rep.region_id;
	return va;
}

static int peer_open(struct peer *p)
{
	struct dmad_proto_hello_req hello = {.name = "worker-cost"};
	struct dmad_proto_hello_rep hrep;
	struct dmad_proto_chan_get_req creq = {.caps = DMAD_PROTO_CAP_COPY};
	struct dmad_proto_chan_get_rep crep;
	int sv[2], fds[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	p->fd = sv[1];
	p->c = client_new(sv[0]);
	if (!p->c)
		return -ENOMEM;
	ret = request(p, DMAD_PROTO_HELLO, &hello, sizeof(hello), -1, &hrep, sizeof(hrep), NULL);
	if (ret < 0)
		return ret;
	p->src = region_new(p, &p->src_id);
	p->dst = region_new(p, &p->dst_id);
	if (!p->src || !p->dst)
		return -EIO;
	ret = request(p, DMAD_PROTO_CHAN_GET, &creq, sizeof(creq), -1, &crep, sizeof(crep), fds);
	if (ret < 0)
		return ret;
	p->ring = mmap(NULL, crep.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	close(fds[0]);
	if (p->ring == MAP_FAILED)
		return -errno;
	p->ring_size = crep.ring_size;
	p->doorbell = fds[1];
	p->sq = dmad_proto_ring_sq(p->ring);
	memcpy(p->device, crep.device, sizeof(p->device));
	return p->device[0] ? 0 : -ENODEV;
}

/* dmac_issue_pending(): publish, then ring the doorbell only if the worker sleeps. */
static void publish(struct peer *p)
{
	static const uint64_t one = 1;

	/* Release: the descriptors are visible before the tail that covers them. */
	__atomic_store_n(&p->ring->sq_tail, p->tail, __ATOMIC_RELEASE);
	/* Pairs with the worker's fence between NEED_WAKEUP and its re-read of the tail. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->ring->flags, __ATOMIC_RELAXED) & DMAD_PROTO_RF_NEED_WAKEUP)
		(void)!write(p->doorbell, &one, sizeof(one));
}

/* Copies done so far: cookies are 1, 2, ... and never wrap in this run. */
static uint32_t completed(struct peer *p)
{
	return __atomic_load_n(&p->ring->completed, __ATOMIC_ACQUIRE);
}

/* @n copies of @size, slot i % slots of src to the same slot of dst, up to
 * opts.window in flight, published opts.batch at a time. */
static int copies(struct peer *p, const struct opts *o, uint32_t size, uint32_t n)
{
	uint32_t slots = REGION_LEN / size, first = p->last_cookie, end = first + n;
	uint32_t seen = completed(p);
	double deadline = now_s() + STALL_S;

	while (completed(p) != end) {
		uint32_t left = end - p->last_cookie;
		uint32_t room = o->window - (p->last_cookie - completed(p));
		uint32_t k = RTE_MIN(o->batch, left);

		if (completed(p) != seen) {
			seen = completed(p);
			deadline = now_s() + STALL_S;
		}
		if (!left || room < k) {
			/* Window full: let the worker and the engine's thread run. */
			if (yield_until(deadline) < 0)
				return -ETIMEDOUT;
			continue;
		}
		for (uint32_t i = 0; i < k; i++) {
			uint64_t off = (uint64_t)((p->last_cookie - first) % slots) * size;

			p->sq[p->tail & (DMAD_PROTO_SQ_ENTRIES - 1)] = (struct dmad_proto_desc){
				.op = DMAD_PROTO_OP_COPY,
				.src_region = p->src_id,
				.cookie = ++p->last_cookie,
				.len = size,
				.dst_region = p->dst_id,
				.src_off = off,
				.dst_off = off,
			};
			p->tail++;
		}
		publish(p);
	}
	return 0;
}

/* Fresh source bytes for each phase, so a stale destination cannot pass. */
static void fill(struct peer *p, unsigned salt)
{
	for (size_t i = 0; i < REGION_LEN; i += 8) {
		uint64_t v = (i * 0x9e3779b97f4a7c15ull) ^ salt;

		memcpy(p->src + i, &v, 8);
	}
	memset(p->dst, 0, REGION_LEN);
}

static uint64_t loops_now(void)
{
	return __atomic_load_n(&dmad.workers[0].loops, __ATOMIC_RELAXED);
}

static void phase_report(struct peer *p, const char *name, uint32_t n, uint64_t loops, double t,
			 const char *data)
{
	printf("phase %s copies %u loops %lu seconds %.3f device %s data %s errors %u\n", name, n,
	       (unsigned long)loops, t, p->device, data, p->ring->err_tail);
	fflush(stdout);
}

/* Until the worker has set NEED_WAKEUP on our ring: it is going to sleep. */
static int wait_asleep(struct peer *p)
{
	double deadline = now_s() + STALL_S;

	while (!(__atomic_load_n(&p->ring->flags, __ATOMIC_ACQUIRE) & DMAD_PROTO_RF_NEED_WAKEUP))
		if (yield_until(deadline) < 0)
			return -ETIMEDOUT;
	return 0;
}

/*
 * The worker with nothing to do, for what one empty loop costs with the
 * same devices and channel: woken IDLE_ROUNDS times, each time it looks
 * (its spin after the last work, worker_idle.c, is long over) and goes back
 * to sleep.
 */
static int phase_idle(struct peer *p, const char *when)
{
	enum { IDLE_ROUNDS = 4 };
	double t, deadline = now_s() + STALL_S;
	uint64_t loops;
	char name[64];

	snprintf(name, sizeof(name), "idle-%s", when);
	if (wait_asleep(p) < 0)
		return -ETIMEDOUT;
	CALLGRIND_ZERO_STATS;
	loops = loops_now();
	t = now_s();
	for (unsigned r = 0; r < IDLE_ROUNDS; r++) {
		uint64_t l = loops_now();

		worker_kick(&dmad.workers[0]);
		/* Once it has looped, it has cleared the flag it set to sleep. */
		while (loops_now() == l)
			if (yield_until(deadline) < 0)
				return -ETIMEDOUT;
		if (wait_asleep(p) < 0)
			return -ETIMEDOUT;
	}
	t = now_s() - t;
	loops = loops_now() - loops;
	CALLGRIND_DUMP_STATS_AT(name);
	phase_report(p, name, 0, loops, t, "-");
	return 0;
}

static int phase(struct peer *p, const struct opts *o, const char *when, unsigned k, unsigned salt)
{
	uint32_t size = o->size[k], n = o->copies[k];
	size_t used = (size_t)RTE_MIN(n, REGION_LEN / size) * size;
	uint64_t loops;
	char name[64];
	double t;
	bool ok;

	fill(p, salt);
	/* Warm-up, uncounted: page faults and the engine's first descriptors. */
	if (copies(p, o, size, o->window * 2) < 0)
		return -ETIMEDOUT;
	snprintf(name, sizeof(name), "%s-%u", when, size);

	CALLGRIND_ZERO_STATS;
	loops = loops_now();
	t = now_s();
	if (copies(p, o, size, n) < 0)
		return -ETIMEDOUT;
	t = now_s() - t;
	loops = loops_now() - loops;
	CALLGRIND_DUMP_STATS_AT(name);

	ok = !memcmp(p->src, p->dst, used) && !p->ring->err_tail;
	phase_report(p, name, n, loops, t, ok ? "ok" : "BAD");
	return ok ? 0 : -EIO;
}

/* `dmactl remove`, without a requester: drain, move the channel, release. */
static int remove_device(struct peer *p)
{
	struct dmad_proto_event ev;
	unsigned ndev = dmad.ndev;
	uint8_t in[sizeof(struct dmad_proto_hdr) + sizeof(ev)];
	double deadline = now_s() + 60;
	int ret = hotplug_remove(p->device, 0, NULL, 0);

	if (ret < 0)
		return log_error_errno(ret, "cannot remove %s: %m", p->device);
	while (hotplug_tick() || dmad.ndev == ndev) {
		if (now_s() > deadline)
			return log_error_errno(-ETIMEDOUT, "%s did not go", p->device);
		usleep(1000);
	}
	/* The channel-moved event names where the channel went. */
	if (recv(p->fd, in, sizeof(in), MSG_DONTWAIT) != (ssize_t)sizeof(in))
		return log_error_errno(-EBADMSG, "no event for the moved channel");
	memcpy(&ev, in + sizeof(struct dmad_proto_hdr), sizeof(ev));
	if (ev.type != DMAD_PROTO_EV_CHAN_MOVED)
		return log_error_errno(-EBADMSG, "channel went to the CPU, not an engine");
	printf("removed %s: channel moved to %s, %u device(s) left\n", ev.from, ev.to, dmad.ndev);
	memcpy(p->device, ev.to, sizeof(p->device));
	return 0;
}

int main(int argc, char **argv)
{
	struct peer p = {.fd = -1, .doorbell = -1};
	struct opts o;
	int ret = -EIO;

	log_init();
	log_max_level = LOG_WARNING;
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (daemon_start(argv[0]) < 0)
		return 1;
	ret = peer_open(&p);
	if (ret < 0) {
		log_error_errno(ret, "cannot set up the client: %m");
	} else {
		printf("worker-cost: window %u, batch %u, %s\n", o.window, o.batch,
		       RUNNING_ON_VALGRIND ? "under valgrind" : "plain");
		ret = phase_idle(&p, "before");
		for (unsigned k = 0; k < o.nsizes && ret == 0; k++)
			ret = phase(&p, &o, "before", k, k);
		if (ret == 0)
			ret = remove_device(&p);
		if (ret == 0)
			ret = phase_idle(&p, "after");
		for (unsigned k = 0; k < o.nsizes && ret == 0; k++)
			ret = phase(&p, &o, "after", k, 100 + k);
	}
	daemon_stop(&p);
	if (p.ring && p.ring != MAP_FAILED)
		munmap(p.ring, p.ring_size);
	if (p.doorbell >= 0)
		close(p.doorbell);
	if (p.fd >= 0)
		close(p.fd);
	return ret < 0 ? 1 : 0;
}
