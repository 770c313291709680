/* SPDX-License-Identifier: MIT */
/*
 * Network receive offload: the RX_OPEN / RX_CLOSE / FLOWS message bodies,
 * the receive area a flow's client maps, and the keys of the XDP program's
 * flow map. Layouts and constants only: nothing here allocates. Also
 * compiled into the BPF program, so it includes nothing but <stdint.h>.
 *
 * A flow's receive area is one memfd the daemon creates and hands to the
 * client: a header, a ring of records, then slot_count slots. The daemon
 * (one rx thread) is the only producer of records, the client (one thread)
 * the only consumer. Record i always describes slot i % slot_count, so a
 * slot is free again as soon as the client's head has moved past its record.
 */
#ifndef DMAD_RX_H
#define DMAD_RX_H

#include <stddef.h>
#include <stdint.h>

#define DMAD_RX_MAGIC	   0x58524d44u /* "DMRX" */
#define DMAD_RX_VERSION	   1u
#define DMAD_RX_IFNAME_MAX 16 /* IFNAMSIZ, NUL included */

/* Limits on one flow's geometry (RX_OPEN is refused outside them). */
#define DMAD_RX_SLOT_MIN   64u		/* smaller: -EMSGSIZE */
#define DMAD_RX_SLOT_MAX   65536u	/* a UDP payload is at most 65507 bytes */
#define DMAD_RX_SLOTS_MAX  65536u	/* slot_count: a power of two up to this */
#define DMAD_RX_AREA_MAX   (1ull << 30) /* slots times stride: larger is -EDQUOT */
#define DMAD_RX_SLOT_ALIGN 64u		/* slots start on cache lines */

/* Sizes of the XDP program's maps. */
#define DMAD_RX_MAX_FLOWS  256u /* per interface */
#define DMAD_RX_MAX_QUEUES 64u	/* queue ids an AF_XDP socket may bind */

enum dmad_rx_proto {
	DMAD_RX_UDP = 17, /* IPPROTO_UDP */
};

/* The XDP program's flow map: (protocol, destination port) -> queue. */
struct dmad_rx_flow_key {
	uint16_t port; /* host byte order */
	uint8_t proto; /* enum dmad_rx_proto */
	uint8_t rsvd;
};

struct dmad_rx_flow_val {
	uint32_t queue; /* datagrams arriving on another queue go to the stack */
	uint32_t flow_id;
};

/* dmad_proto_rx_open_req.flags */
#define DMAD_RX_OPEN_F_COPYBREAK (1u << 0) /* use the request's copybreak */

struct dmad_proto_rx_open_req {
	char ifname[DMAD_RX_IFNAME_MAX];
	uint32_t queue;
	uint16_t port; /* host byte order, 1..65535 */
	uint8_t proto; /* enum dmad_rx_proto */
	uint8_t rsvd0;
	uint32_t slot_size;  /* DMAD_RX_SLOT_MIN..DMAD_RX_SLOT_MAX bytes */
	uint32_t slot_count; /* a power of two, 1..DMAD_RX_SLOTS_MAX */
	uint32_t flags;	     /* DMAD_RX_OPEN_F_* */
	uint32_t copybreak;  /* with DMAD_RX_OPEN_F_COPYBREAK: this flow's, bytes */
};

/* How the daemon attached its XDP program to the interface. */
enum dmad_rx_xdp_mode {
	DMAD_RX_XDP_NATIVE = 1, /* in the driver */
	DMAD_RX_XDP_GENERIC = 2 /* SKB mode: the driver has no XDP */
};

/* RX_OPEN reply body; 2 fds come with it: the receive area memfd and an eventfd. */
struct dmad_proto_rx_open_rep {
	uint64_t area_size; /* bytes to mmap from the memfd */
	uint32_t flow_id;
	uint32_t copybreak; /* payloads shorter than this are copied by the CPU */
	uint32_t xdp_mode;  /* enum dmad_rx_xdp_mode */
	uint32_t rsvd;
	char device[32]; /* the flow's DMA engine; "" when copies go by CPU */
};

struct dmad_proto_rx_close_req {
	uint32_t flow_id;
	uint32_t rsvd;
};

/* FLOWS reply body: this, then nflow records. */
struct dmad_proto_flows {
	uint32_t nflow;
	uint32_t flags; /* bit 0: records left out to fit; bit 1: not an admin, so only the
			   asker's own flows (DMAD_PROTO_LIST_* in dmad_proto.h) */
};

/* Per-flow counters, kept by the daemon and mirrored into the receive area. */
struct dmad_rx_stats {
	uint64_t packets;	 /* delivered to the client */
	uint64_t bytes;		 /* of payload delivered */
	uint64_t drop_no_slot;	 /* every slot held by the client */
	uint64_t drop_too_large; /* payload longer than a slot */
	uint64_t drop_dma_error; /* the copy failed */
	uint64_t dma_copies;	 /* payloads copied by the DMA engine */
	uint64_t cpu_copies;	 /* payloads copied by the CPU (copybreak, no engine) */
	uint64_t kernel_drops;	 /* FLOWS only: the flow's AF_XDP socket (shared with the
				    flows on its queue) had no room; the kernel dropped them */
};

struct dmad_proto_flow_info {
	char ifname[DMAD_RX_IFNAME_MAX];
	char device[32]; /* "" when the flow copies by CPU */
	struct dmad_rx_stats stats;
	uint32_t client_id;
	uint32_t flow_id;
	uint32_t queue;
	uint16_t port;
	uint8_t proto;
	uint8_t xdp_mode;
	uint32_t slot_size;
	uint32_t slot_count;
	uint32_t held; /* slots published and not yet released by the client */
	uint32_t rsvd;
};

/* dmad_rx_rec.flags */
#define DMAD_RX_REC_ERROR (1u << 0) /* the copy failed: no payload, skip it */

/* One received payload: bytes [offset, offset+len) of the area. */
struct dmad_rx_rec {
	uint32_t offset; /* from the start of the area (which is below 4 GiB) */
	uint32_t len;
	uint32_t seq; /* the flow's datagram number from 1; a gap is a drop */
	uint32_t flags;
};

/* dmad_rx_area.flags, written by the daemon. */
#define DMAD_RX_F_DEAD (1u << 0) /* flow closed or daemon gone: no more records */

/* dmad_rx_area.client_flags, written by the client. */
#define DMAD_RX_CF_WAITING (1u << 0) /* client sleeps on the eventfd: signal it */

#define DMAD_RX_CACHELINE 64

struct dmad_rx_area {
	/* Line 0: set by the daemon before the area is handed out, then fixed. */
	uint32_t magic;
	uint32_t version;
	uint32_t slot_size;  /* the largest payload a slot takes */
	uint32_t slot_count; /* = record entries */
	uint32_t slot_stride;
	uint32_t rec_offset;
	uint64_t data_offset; /* slot i starts at data_offset + i * slot_stride */
	uint64_t size;
	uint8_t pad0[DMAD_RX_CACHELINE - 40];

	/* Line 1: written by the daemon's rx thread. */
	uint32_t tail; /* records published, free-running */
	uint8_t pad1[DMAD_RX_CACHELINE - 4];

	/* Line 2: written by the client. */
	uint32_t head; /* records released, free-running */
	uint8_t pad2[DMAD_RX_CACHELINE - 4];

	/* Line 3: written by the daemon, rarely. */
	uint32_t flags;
	uint8_t pad3[DMAD_RX_CACHELINE - 4];

	/* Line 4: written by the client, rarely. */
	uint32_t client_flags;
	uint8_t pad4[DMAD_RX_CACHELINE - 4];

	/* Line 5: written by the daemon's rx thread after each batch. */
	struct dmad_rx_stats stats;
};

_Static_assert(sizeof(struct dmad_rx_flow_key) == 4, "flow key");
_Static_assert(sizeof(struct dmad_rx_flow_val) == 8, "flow value");
_Static_assert(sizeof(struct dmad_proto_rx_open_req) == 40, "rx open req");
_Static_assert(offsetof(struct dmad_proto_rx_open_req, queue) == 16, "queue offset");
_Static_assert(offsetof(struct dmad_proto_rx_open_req, slot_size) == 24, "slot size offset");
_Static_assert(sizeof(struct dmad_proto_rx_open_rep) == 56, "rx open rep");
_Static_assert(sizeof(struct dmad_proto_rx_close_req) == 8, "rx close req");
_Static_assert(sizeof(struct dmad_proto_flows) == 8, "flows");
_Static_assert(sizeof(struct dmad_rx_stats) == 64, "stats");
_Static_assert(sizeof(struct dmad_proto_flow_info) == 144, "flow info");
_Static_assert(sizeof(struct dmad_rx_rec) == 16, "record");
_Static_assert(offsetof(struct dmad_rx_area, data_offset) == 24, "data offset");
_Static_assert(offsetof(struct dmad_rx_area, tail) == 1 * DMAD_RX_CACHELINE, "tail line");
_Static_assert(offsetof(struct dmad_rx_area, head) == 2 * DMAD_RX_CACHELINE, "head line");
_Static_assert(offsetof(struct dmad_rx_area, flags) == 3 * DMAD_RX_CACHELINE, "flags line");
_Static_assert(offsetof(struct dmad_rx_area, client_flags) == 4 * DMAD_RX_CACHELINE,
	       "client flags line");
_Static_assert(offsetof(struct dmad_rx_area, stats) == 5 * DMAD_RX_CACHELINE, "stats line");
_Static_assert(sizeof(struct dmad_rx_area) == 6 * DMAD_RX_CACHELINE, "area header size");

/* Bytes between slots: @slot_size rounded up to a cache line. */
static inline uint32_t dmad_rx_stride(uint32_t slot_size)
{
	return (slot_size + DMAD_RX_SLOT_ALIGN - 1) & ~(DMAD_RX_SLOT_ALIGN - 1);
}

/* Where the slots start, for @slot_count records after the header. */
static inline uint64_t dmad_rx_data_offset(uint32_t slot_count)
{
	uint64_t end =
		sizeof(struct dmad_rx_area) + (uint64_t)slot_count * sizeof(struct dmad_rx_rec);

	return (end + 4095) & ~(uint64_t)4095;
}

#endif /* DMAD_RX_H */
