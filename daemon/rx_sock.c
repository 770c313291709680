/* SPDX-License-Identifier: MIT */
/*
 * One AF_XDP socket per (interface, queue) with flows, through libxdp's xsk
 * API (the maintained home of the ring helpers libbpf 1.0 dropped), told not
 * to load a program of its own: ours steers by port. The UMEM is a sealed
 * memfd mapped and registered for DMA like a client's region, so the flows'
 * engines read payloads straight out of the frames the kernel filled.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_xdp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handover_live.h"
#include "log.h"
#include "region.h"
#include "rx_ledger.h"
#include "rx_priv.h"

/* Linux 6.6's AF_XDP multi-buffer, for older uapi headers. */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif

struct rx_sock *rx_socks;

/* The ledger's pages after the frames (rx_ledger.h); a UMEM from a dmad
 * without one has none. */
static int ledger_map(struct rx_sock *s, uint64_t file_len)
{
	void *p;

	if (file_len != RX_UMEM_LEN + RX_LEDGER_LEN)
		return 0;
	p = mmap(NULL, RX_LEDGER_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, s->umem_fd,
		 (off_t)RX_UMEM_LEN);
	if (p == MAP_FAILED)
		return -errno;
	s->ledger = p;
	return 0;
}

static int umem_create(struct rx_sock *s)
{
	const uint64_t len = RX_UMEM_LEN;
	struct xsk_umem_config cfg = {
		.fill_size = RX_FRAMES,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = RX_FRAME_SIZE,
		.frame_headroom = 0,
	};
	int ret;

	s->umem_fd = memfd_create("dmad-umem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->umem_fd < 0 || ftruncate(s->umem_fd, (off_t)(len + RX_LEDGER_LEN)) < 0 ||
	    fcntl(s->umem_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return -errno;
	handover_live_add(s->umem_fd, false);
	ret = ledger_map(s, len + RX_LEDGER_LEN);
	if (ret < 0)
		return ret;
	/* Shared by every flow on the queue: dmad's own, charged to no one. */
	ret = region_map(s->umem_fd, len, NULL, &s->umem_region);
	if (ret < 0)
		return ret;
	s->umem_va = s->umem_region->view.va;
	return xsk_umem__create(&s->umem, s->umem_va, len, &s->fq, &s->cq, &cfg);
}

/*
 * A socket closed on this queue a moment ago still holds it until the
 * kernel's deferred release of its buffer pool has run: binding meanwhile
 * is -EBUSY. Retry briefly rather than refuse a flow for that.
 */
static int xsk_bind(struct rx_sock *s, const struct xsk_socket_config *cfg)
{
	int ret, tries = 0;

	do
		ret = xsk_socket__create(&s->xsk, s->ifc->name, s->queue, s->umem, &s->rx, NULL,
					 cfg);
	while (rx_busy_again(ret, &tries));
	return ret;
}

bool rx_busy_again(int ret, int *tries)
{
	if (ret != -EBUSY || *tries == BUSY_RETRIES)
		return false;
	++*tries;
	nanosleep(&(const struct timespec){0, BUSY_RETRY_MS * 1000000L}, NULL);
	return true;
}

/*
 * Zero-copy where the driver offers it, else copy mode; multi-buffer
 * (datagrams over one frame, on jumbo MTUs) where the kernel has it.
 */
static int xsk_create(struct rx_sock *s)
{
	static const uint16_t modes[] = {
		XDP_ZEROCOPY | XDP_USE_SG,
		XDP_ZEROCOPY,
		XDP_COPY | XDP_USE_SG,
		XDP_COPY,
	};
	struct xsk_socket_config cfg = {
		.rx_size = RX_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	};
	int ret = -EOPNOTSUPP;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && ret < 0; i++) {
		if ((modes[i] & XDP_ZEROCOPY) && s->ifc->mode != DMAD_RX_XDP_NATIVE)
			continue;
		cfg.bind_flags = XDP_USE_NEED_WAKEUP | modes[i];
		ret = xsk_bind(s, &cfg);
	}
	if (ret < 0)
		return ret == -EINVAL ? -ENXIO : ret; /* a queue the interface lacks */
	s->xsk_fd = xsk_socket__fd(s->xsk);
	handover_live_add(s->xsk_fd, false);
	return 0;
}

/* Hand every frame to the kernel: fill ring and UMEM are the same size. */
static void fill_all(struct rx_sock *s)
{
	uint32_t idx = 0;

	xsk_ring_prod__reserve(&s->fq, RX_FRAMES, &idx);
	for (uint32_t i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx + i) = (uint64_t)i * RX_FRAME_SIZE;
	xsk_ring_prod__submit(&s->fq, RX_FRAMES);
}

static void sock_free(struct rx_sock *s)
{
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_mutex_unlock(&s->lock);
		rx_sock_kick(s);
		pthread_join(s->thread, NULL);
	}
	handover_live_drop(s->xsk_fd);
	handover_live_drop(s->umem_fd);
	if (s->xsk) {
		rx_iface_set_xsk(s->ifc, s->queue, -1);
		xsk_socket__delete(s->xsk);
	} else if (s->xsk_fd >= 0) {
		/* Taken over: libxdp never knew it. Its UMEM goes with the socket. */
		rx_iface_set_xsk(s->ifc, s->queue, -1);
		if (s->fq_map)
			munmap(s->fq_map, s->fq_len);
		if (s->rx_map)
			munmap(s->rx_map, s->rx_len);
		close(s->xsk_fd);
	}
	/* Only fails while a socket still uses it, and the one that did is gone. */
	if (s->umem)
		xsk_umem__delete(s->umem);
	region_unmap(s->umem_region);
	if (s->ledger)
		munmap(s->ledger, RX_LEDGER_LEN);
	free(s->restored);
	if (s->umem_fd >= 0)
		close(s->umem_fd);
	if (s->kick_fd >= 0)
		close(s->kick_fd);
	pthread_mutex_destroy(&s->lock);
	rx_iface_put(s->ifc);
	free(s);
}

int rx_sock_run(struct rx_sock *s)
{
	char name[16];
	int ret = rx_iface_set_xsk(s->ifc, s->queue, s->xsk_fd);

	if (ret < 0)
		return ret;
	if (dmad.crash_safe && !s->ledger)
		log_warning("%s queue %u: its UMEM has no rx ledger; a crash of this dmad ends "
			    "its flows",
			    s->ifc->name, s->queue);
	else if (dmad.crash_safe)
		rx_ledger_begin(s);
	ret = -pthread_create(&s->thread, NULL, rx_thread_main, s);
	if (ret < 0)
		return ret;
	s->started = true;
	snprintf(name, sizeof(name), "rx-%.12s", s->ifc->name);
	pthread_setname_np(s->thread, name);
	return 0;
}

static int sock_start(struct rx_sock *s)
{
	int ret;

	s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->kick_fd < 0)
		return -errno;
	ret = umem_create(s);
	if (ret < 0)
		return log_error_errno(ret, "cannot create a UMEM for %s queue %u: %m",
				       s->ifc->name, s->queue);
	ret = xsk_create(s);
	if (ret < 0)
		return ret;
	fill_all(s);
	return rx_sock_run(s);
}

/*
 * Map a ring of @size entries of @esize bytes of the socket, as libxdp
 * does. A ring of another size than this dmad makes is refused: mapping
 * a page more than its size must fail.
 */
static void *ring_map(int fd, const struct xdp_ring_offset *off, uint32_t size, size_t esize,
		      off_t pgoff, size_t *ret_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = off->desc + size * esize;
	size_t over = (len + page - 1) / page * page + page;
	void *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pgoff);

	if (p != MAP_FAILED) {
		munmap(p, over);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (p == MAP_FAILED)
		return NULL;
	*ret_len = len;
	return p;
}

/* The socket's rings where the kernel has them: its indices go on. */
static int rings_adopt(struct rx_sock *s)
{
	struct xdp_mmap_offsets off;
	socklen_t optlen = sizeof(off);
	uint8_t *m;

	if (getsockopt(s->xsk_fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) < 0 ||
	    optlen != sizeof(off))
		return -EBADF;
	m = s->fq_map = ring_map(s->xsk_fd, &off.fr, RX_FRAMES, sizeof(uint64_t),
				 XDP_UMEM_PGOFF_FILL_RING, &s->fq_len);
	if (!m)
		return -EBADF;
	s->fq = (struct xsk_ring_prod){
		.mask = RX_FRAMES - 1,
		.size = RX_FRAMES,
		.producer = (uint32_t *)(m + off.fr.producer),
		.consumer = (uint32_t *)(m + off.fr.consumer),
		.ring = m + off.fr.desc,
		.flags = (uint32_t *)(m + off.fr.flags),
	};
	s->fq.cached_prod = *s->fq.producer;
	s->fq.cached_cons = *s->fq.consumer + RX_FRAMES;
	m = s->rx_map = ring_map(s->xsk_fd, &off.rx, RX_RING_SIZE, sizeof(struct xdp_desc),
				 XDP_PGOFF_RX_RING, &s->rx_len);
	if (!m)
		return -EBADF;
	s->rx = (struct xsk_ring_cons){
		.mask = RX_RING_SIZE - 1,
		.size = RX_RING_SIZE,
		.producer = (uint32_t *)(m + off.rx.producer),
		.consumer = (uint32_t *)(m + off.rx.consumer),
		.ring = m + off.rx.desc,
		.flags = (uint32_t *)(m + off.rx.flags),
	};
	s->rx.cached_prod = *s->rx.producer;
	s->rx.cached_cons = *s->rx.consumer;
	return 0;
}

static int umem_adopt(struct rx_sock *s)
{
	const uint64_t len = RX_UMEM_LEN;
	struct stat st;
	int ret;

	if (fstat(s->umem_fd, &st) < 0 ||
	    ((uint64_t)st.st_size != len && (uint64_t)st.st_size != len + RX_LEDGER_LEN))
		return -EBADF;
	ret = region_map(s->umem_fd, len, NULL, &s->umem_region);
	if (ret < 0)
		return ret;
	s->umem_va = s->umem_region->view.va;
	return ledger_map(s, (uint64_t)st.st_size);
}

int rx_sock_adopt(struct rx_iface *ifc, uint32_t queue, int xsk_fd, int umem_fd, uint64_t unmatched,
		  struct rx_sock **ret_sock)
{
	struct rx_sock *s = calloc(1, sizeof(*s));
	int ret;

	if (!s) {
		close(xsk_fd);
		close(umem_fd);
		rx_iface_put(ifc);
		return -ENOMEM;
	}
	s->ifc = ifc;
	s->queue = queue;
	s->xsk_fd = xsk_fd;
	s->umem_fd = umem_fd;
	handover_live_add(xsk_fd, false);
	handover_live_add(umem_fd, false);
	s->unmatched = unmatched;
	pthread_mutex_init(&s->lock, NULL);
	s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = s->kick_fd < 0 ? -errno : umem_adopt(s);
	if (ret == 0)
		ret = rings_adopt(s);
	if (ret < 0) {
		sock_free(s);
		return ret;
	}
	s->nflows = 1;
	s->next = rx_socks;
	rx_socks = s;
	*ret_sock = s;
	return 0;
}

int rx_sock_get(struct rx_iface *ifc, uint32_t queue, struct rx_sock **ret_sock)
{
	struct rx_sock *s;
	int ret;

	for (s = rx_socks; s; s = s->next) {
		if (s->ifc == ifc && s->queue == queue) {
			s->nflows++;
			rx_iface_put(ifc); /* the socket already holds the interface */
			*ret_sock = s;
			return 0;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rx_iface_put(ifc);
		return -ENOMEM;
	}
	s->ifc = ifc;
	s->queue = queue;
	s->umem_fd = s->kick_fd = s->xsk_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	ret = sock_start(s);
	if (ret < 0) {
		sock_free(s);
		return ret;
	}
	s->nflows = 1;
	s->next = rx_socks;
	rx_socks = s;
	*ret_sock = s;
	return 0;
}

void rx_sock_put(struct rx_sock *s)
{
	struct rx_sock **pp = &rx_socks;

	if (--s->nflows)
		return;
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	sock_free(s);
}

uint64_t rx_sock_kernel_drops(const struct rx_sock *s)
{
	struct xdp_statistics st = {0};
	socklen_t len = sizeof(st);

	if (getsockopt(s->xsk_fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
		return 0;
	return st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs;
}

void rx_sock_kick(struct rx_sock *s)
{
	uint64_t one = 1;
	/* Only fails when the counter is saturated: a wake-up is pending anyway. */
	ssize_t r = write(s->kick_fd, &one, sizeof(one));

	(void)r;
}
