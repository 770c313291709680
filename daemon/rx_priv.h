/* SPDX-License-Identifier: MIT */
/*
 * Receive offload internals, shared by the rx_*.c files.
 *
 * Three objects, each owned by the control thread:
 *   rx_iface  one per interface with flows: the XDP program and its maps;
 *   rx_sock   one per (interface, queue): an AF_XDP socket, its UMEM and
 *             the rx thread that serves it;
 *   rx_flow   one per RX_OPEN: a port, a receive area shared with the
 *             client, and a daemon-internal DMA channel.
 *
 * The rx thread is the single producer of its flows' channels and of their
 * receive areas. It and the control thread share a socket's flow list under
 * the socket's mutex, taken once per batch; everything else of a flow's hot
 * state is the thread's alone.
 */
#ifndef DMAD_RX_PRIV_H
#define DMAD_RX_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xdp/xsk.h>

#include "client.h"
#include "daemon.h"
#include "dmad_rx.h"

/*
 * UMEM geometry: every frame is in the fill ring or held, never both. 32 MiB
 * a queue, of the order of what a socket with an 8 MB SO_RCVBUF buffers:
 * tens of milliseconds of a stream at any size, for when the rx thread
 * waits for a CPU. The RX ring takes every frame: with 2048 entries, 8 KiB
 * datagrams (3 frames each) filled it with a third of the frames free.
 */
#define RX_FRAMES     8192u
#define RX_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define RX_RING_SIZE  RX_FRAMES
/* Frames one datagram may span (AF_XDP multi-buffer): 64 KiB over 3840-byte frames. */
#define RX_MAX_FRAGS 18u
#define RX_UMEM_LEN  ((uint64_t)RX_FRAMES * RX_FRAME_SIZE)

/* Region ids in a flow's own region table. */
#define RX_REGION_UMEM 0
#define RX_REGION_AREA 1

/* How long an attach or a bind waits out a holder that is going away
 * (a socket's deferred release; a dead dmad's link the service manager
 * has not dropped yet): 100 tries 10 ms apart. */
#define BUSY_RETRIES  100
#define BUSY_RETRY_MS 10

/*
 * rx_busy_again() - after @ret (0, or -errno) of an attach or a bind: is
 * it -EBUSY with fewer than BUSY_RETRIES retries counted in *@tries? Then
 * it has waited BUSY_RETRY_MS, and the caller tries again.
 */
bool rx_busy_again(int ret, int *tries);

struct dmad_xdp;
struct rx_ledger;
struct rx_ledger_snap;

/* The frames of the datagram being taken off the RX ring, which a batch may split. */
struct rx_frags {
	uint32_t n;
	bool bad; /* too many frames, or one outside the UMEM: drop it whole */
	uint64_t addr[RX_MAX_FRAGS];
	uint32_t len[RX_MAX_FRAGS];
};

struct rx_iface {
	char name[DMAD_RX_IFNAME_MAX];
	int ifindex;
	struct dmad_xdp *skel;
	int link_fd; /* the bpf_link: closing it (or dying) detaches the program */
	/* The maps' fds as the fd store has them: the skeleton's, or those
	 * taken over (owned: the skeleton holds copies). */
	int map_fd[3]; /* dmad_flows, dmad_xsks, dmad_owner */
	bool own_maps;
	uint32_t mode; /* enum dmad_rx_xdp_mode */
	unsigned nsocks;
	uint32_t ho_index; /* its record in a handover state being written */
	struct rx_iface *next;
};

struct rx_sock {
	/* Read by the rx thread, set before it starts. */
	struct rx_iface *ifc;
	uint32_t queue;
	uint8_t *umem_va;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rx;
	int xsk_fd;
	int kick_fd; /* eventfd: control -> thread, look at the flows again */

	pthread_mutex_t lock;  /* guards flows and each flow's closing flag */
	struct rx_flow *flows; /* this socket's flows, linked by snext */
	bool stop;	       /* under lock */
	bool quiesce;	       /* under lock: a restart hands the socket on; see rx_quiesce() */
	uint32_t quiesced;     /* thread -> control: quiescing done, the thread is out */

	/* Rx thread only; read without the lock by `dmactl flows`. */
	uint64_t unmatched; /* datagrams for no open flow (closed meanwhile) */
	struct rx_frags cur;
	/* Crash-safe mode: RX ring entries taken and not yet committed (rx_ledger.h). */
	uint32_t uncommitted;
	struct rx_ledger *ledger; /* after the frames in the UMEM memfd; NULL: none */

	/* Control side. */
	int umem_fd;
	struct region *umem_region; /* the daemon's mapping, registered for DMA */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	pthread_t thread;
	bool started;
	unsigned nflows;
	/* Taken over from the dmad before a restart (rx_sock_adopt()): its
	 * rings are mapped here, not by libxdp. */
	void *fq_map, *rx_map;
	size_t fq_len, rx_len;
	struct rx_ledger_snap *restored; /* after a crash: the dead dmad's last commit */
	uint32_t ho_index;		 /* its record in a handover state being written */
	struct rx_sock *next;
};

/* A payload on its way into a slot; entry i is record i. */
struct rx_pending {
	uint32_t cookie; /* its last descriptor's; 0: copied by the CPU, already in place */
	uint32_t len;
	uint32_t seq;
};

/* A UMEM frame an engine may still read: recycled once @cookie completes. */
struct rx_hold {
	uint64_t frame;
	uint32_t cookie;
};

struct rx_flow {
	/* Rx thread's hot state. */
	struct rx_sock *sock;
	uint16_t port;
	struct dmad_rx_area *area;
	uint8_t *area_va;
	uint32_t slot_size, slot_mask, stride;
	uint64_t data_offset;
	struct rx_pending *pend; /* slot_count entries */
	struct rx_hold *hold;	 /* RX_FRAMES entries: no flow holds more */
	uint32_t hold_head, hold_tail;
	uint32_t tail;	      /* records assigned a slot */
	uint32_t published;   /* records complete (visible to the client unless crash-safe) */
	uint32_t shown;	      /* crash-safe mode: area->tail as last stored */
	uint32_t cached_head; /* area->head as last read */
	uint32_t seq;	      /* datagrams that reached this flow */
	struct chan *ch;
	uint32_t sq_tail;     /* descriptors written */
	uint32_t sq_head;     /* ring->sq_head as last read */
	uint32_t last_cookie; /* newest cookie handed out */
	uint32_t err_head;    /* error records of ours already read */
	uint32_t copybreak;
	int efd;		 /* eventfd the client sleeps on */
	struct dmad_rx_stats st; /* single writer: the rx thread */
	bool st_dropped;	 /* st counts a drop the area's copy of it does not */
	bool closing;		 /* under sock->lock: take nothing new */
	uint32_t drained;	 /* thread -> control: closing and nothing pending */

	/* Control side. */
	struct client *owner;
	struct region_table *regions; /* the two regions its channel may touch */
	struct region *area_region;
	int area_fd;
	bool fds_charged;	 /* area_fd and efd, to the owner's quota account */
	uint64_t drops_reported; /* rx_drops_report() has told of this many */
	uint32_t id;
	uint32_t queue;
	uint8_t proto;
	uint32_t slot_count;
	struct rx_flow *snext; /* socket's list, under sock->lock */
	struct rx_flow *next;  /* every flow, control thread */
};

/* What RX_OPEN asked for, checked. */
struct rx_flow_spec {
	const char *ifname;
	uint32_t queue;
	uint16_t port;
	uint8_t proto;
	bool copybreak_set;
	uint32_t copybreak;
	uint32_t slot_size;
	uint32_t slot_count;
};

/* rx_flow.c: every flow, open or closing, linked by next. */
extern struct rx_flow *rx_all_flows;
/* The newest flow id handed out; a restart carries it on. */
extern uint32_t rx_flow_last_id;

/* What a flow was when the dmad before a restart handed it on. */
struct rx_flow_carried {
	uint32_t id;
	uint16_t port;
	uint8_t proto;
	uint32_t slot_size, slot_count, copybreak;
	uint32_t tail, seq;
	uint64_t drops_reported;
	struct dmad_rx_stats stats;
};

/* rx_flow_create() - the flow, its socket and program, live on return. */
int rx_flow_create(struct client *owner, const struct rx_flow_spec *spec,
		   struct rx_flow **ret_flow);
/* rx_flow_adopt() - @c's flow on @sock (whose reference it takes) again,
 * from its area memfd and eventfd (taken, whatever it returns); steered to
 * again, and live, on return. */
int rx_flow_adopt(struct client *owner, struct rx_sock *sock, const struct rx_flow_carried *c,
		  int area_fd, int efd, struct rx_flow **ret_flow);
/* rx_flow_close() - stop steering to @f and wake its client; freed by rx_flow_reap(). */
void rx_flow_close(struct rx_flow *f);
/* rx_flow_reap() - free closed @f if its copies have landed; true when freed. */
bool rx_flow_reap(struct rx_flow *f);

/* rx_xdp.c: the XDP program of one interface. */
int rx_iface_get(const char *name, struct rx_iface **ret_ifc);
void rx_iface_put(struct rx_iface *ifc);
int rx_iface_set_xsk(struct rx_iface *ifc, uint32_t queue, int xsk_fd);
int rx_iface_add_flow(struct rx_iface *ifc, const struct rx_flow *f);
void rx_iface_del_flow(struct rx_iface *ifc, const struct rx_flow *f);
/* rx_iface_keep_flow() - steer @f's port to it, whatever the map held. */
int rx_iface_keep_flow(struct rx_iface *ifc, const struct rx_flow *f);
/* rx_iface_adopt() - the interface @name's program, attached by @link_fd,
 * with its maps, from the dmad before a restart: this dmad's program takes
 * the link's place (bpf_link_update: traffic never goes unsteered) and
 * uses the same maps. Takes every fd, whatever it returns. */
int rx_iface_adopt(const char *name, uint32_t mode, int link_fd, int flows_fd, int xsks_fd,
		   int owner_fd, struct rx_iface **ret_ifc);
/* rx_iface_prune() - remove map entries of flows and queues that no
 * longer have one here (not taken over). */
void rx_iface_prune(struct rx_iface *ifc);
/* rx_lib_log() - libbpf's and libxdp's messages to dmad's log. */
void rx_lib_log(void);
/* The interfaces with flows. */
extern struct rx_iface *rx_ifaces;

/* rx_sock.c: AF_XDP socket and rx thread for one (interface, queue). */
int rx_sock_get(struct rx_iface *ifc, uint32_t queue, struct rx_sock **ret_sock);
void rx_sock_put(struct rx_sock *s);
void rx_sock_kick(struct rx_sock *s);
/* rx_sock_adopt() - the AF_XDP socket @xsk_fd on @ifc's @queue, with its
 * UMEM memfd, from the dmad before a restart: rings mapped again where the
 * kernel left them. Takes @ifc's reference and both fds, whatever it
 * returns. Its rx thread waits for rx_sock_run(): datagrams already in
 * its RX ring are for flows not yet taken over. */
int rx_sock_adopt(struct rx_iface *ifc, uint32_t queue, int xsk_fd, int umem_fd, uint64_t unmatched,
		  struct rx_sock **ret_sock);
/* rx_sock_run() - steer @s's queue to it and start its rx thread. */
int rx_sock_run(struct rx_sock *s);
/* The sockets. */
extern struct rx_sock *rx_socks;
/* Datagrams the kernel dropped on @s for want of room in its rings. */
uint64_t rx_sock_kernel_drops(const struct rx_sock *s);

/* rx_thread.c */
void *rx_thread_main(void *arg);

#endif /* DMAD_RX_PRIV_H */
