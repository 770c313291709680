/* SPDX-License-Identifier: MIT */
/*
 * The handover state's second part (handover_state.h), right after the fd
 * table: what a client set for itself and what dmad counted (so that
 * `dmactl status` totals never go down across a restart), and the receive
 * flows with the fds they are made of (each in the fd table under a kind
 * of its own).
 *
 * Layout: struct handover_ext, then nclients handover_client_ext records
 * (entry i is client record i's), nuids handover_uid, nreleased
 * dmad_proto_released, ngone dmad_proto_gone_client, nrxifs
 * handover_rxif, nrxsocks handover_rxsock and nrxflows handover_rxflow
 * records, back to back. Checked whole with the rest
 * (handover_ext_parse()); libc only, like handover_state.c.
 */
#ifndef DMAD_HANDOVER_EXT_H
#define DMAD_HANDOVER_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmad_proto.h"
#include "dmad_rx.h"

/* share.c's: uids with settings of their own, and the largest rate. */
#define HANDOVER_UIDS_MAX 64u
#define HANDOVER_RATE_MAX (UINT64_C(1) << 50)

struct handover_ext {
	uint16_t size; /* sizeof(struct handover_ext) */
	uint16_t client_size, uid_size, released_size, gone_size;
	uint16_t rxif_size, rxsock_size, rxflow_size;
	uint32_t nuids, nreleased, ngone;
	uint32_t nrxifs, nrxsocks, nrxflows;
	uint32_t next_flow_id; /* >= every flow's id: new flows take ids after it */
	uint32_t released_devices;
	/* What every engine did under every dmad so far, released devices
	 * included: the floor of the next dmad's totals. */
	uint64_t ops, bytes, errors;
};

#define HANDOVER_CLIENT_WEIGHT_OWN (1u << 0) /* dmactl set it, not its uid's default */

struct handover_client_ext {
	uint32_t weight; /* DMAD_PROTO_SHARE_WEIGHT_MIN..MAX; 0: its uid's default */
	uint32_t flags;	 /* HANDOVER_CLIENT_WEIGHT_OWN */
	uint64_t rate;	 /* bytes per second, <= HANDOVER_RATE_MAX; 0: none */
	/* What its channels that are no more did (put, or dead): its totals'
	 * part that no channel record carries. */
	uint64_t put_ops, put_bytes, put_errors;
};

struct handover_uid {
	uint32_t uid;
	uint32_t weight; /* 0: the daemon's default, else MIN..MAX */
	uint64_t rate;
};

/* An interface with flows: its XDP program's bpf_link and maps. */
struct handover_rxif {
	char name[DMAD_RX_IFNAME_MAX];		 /* terminated, not empty */
	uint32_t link;				 /* fd table index, HANDOVER_FD_BPF_LINK */
	uint32_t flows_map, xsks_map, owner_map; /* HANDOVER_FD_BPF_MAP */
	uint32_t mode;				 /* enum dmad_rx_xdp_mode */
	uint32_t rsvd;
};

/* An AF_XDP socket: its rings (positions in the kernel) and its UMEM. */
struct handover_rxsock {
	uint32_t iface; /* rxif record index */
	uint32_t queue; /* < DMAD_RX_MAX_QUEUES, unique per interface */
	uint32_t xsk;	/* fd table index, HANDOVER_FD_XSK */
	uint32_t umem;	/* fd table index, HANDOVER_FD_UMEM */
	uint64_t unmatched;
};

/* A flow, quiesced: every record it took was published (tail). */
struct handover_rxflow {
	uint32_t client; /* client record index */
	uint32_t id;	 /* != 0, unique, <= next_flow_id */
	uint32_t sock;	 /* rxsock record index */
	uint16_t port;	 /* != 0, unique per interface */
	uint8_t proto;	 /* DMAD_RX_UDP */
	uint8_t rsvd;
	uint32_t slot_size;  /* DMAD_RX_SLOT_MIN..MAX */
	uint32_t slot_count; /* a power of two up to DMAD_RX_SLOTS_MAX */
	uint32_t copybreak;
	uint32_t area;	/* fd table index, HANDOVER_FD_RX_AREA */
	uint32_t event; /* fd table index, HANDOVER_FD_RX_EVENT */
	uint32_t tail;	/* records published */
	uint32_t seq;	/* datagrams that reached it */
	uint32_t rsvd2;
	uint64_t drops_reported;
	struct dmad_rx_stats stats;
};

_Static_assert(sizeof(struct handover_ext) == 72, "handover ext");
_Static_assert(sizeof(struct handover_client_ext) == 40, "handover client ext");
_Static_assert(sizeof(struct handover_uid) == 16, "handover uid");
_Static_assert(sizeof(struct handover_rxif) == 40, "handover rx interface");
_Static_assert(sizeof(struct handover_rxsock) == 24, "handover rx socket");
_Static_assert(sizeof(struct handover_rxflow) == 120, "handover rx flow");

struct handover_ext_view {
	const struct handover_ext *e;
	const struct handover_client_ext *clients;
	const struct handover_uid *uids;
	const struct dmad_proto_released *released;
	const struct dmad_proto_gone_client *gone;
	const struct handover_rxif *rxifs;
	const struct handover_rxsock *rxsocks;
	const struct handover_rxflow *rxflows;
};

struct handover_ext_counts {
	uint32_t nclients, nuids, nreleased, ngone, nrxifs, nrxsocks, nrxflows;
};

/* Bytes the part with these counts takes. */
size_t handover_ext_size(const struct handover_ext_counts *n);

/* handover_ext_init() - the part's header at @buf (zeroed, 8-aligned), records pointed at. */
void handover_ext_init(void *buf, const struct handover_ext_counts *n,
		       struct handover_ext_view *ret_view);

struct handover_view;

/*
 * handover_ext_parse() - check the @len bytes at @buf as the part that
 * follows the fd table of @v (whose other records passed): sizes, ranges,
 * uniqueness, and each fd of a kind of this part claimed by exactly one
 * record (@used: one byte per fd table entry). Returns true and fills
 * @ret_view, or false with *@ret_why.
 */
bool handover_ext_parse(const void *buf, size_t len, const struct handover_view *v, uint8_t *used,
			struct handover_ext_view *ret_view, const char **ret_why);

/* handover_ext_fd_wrong() - what is wrong with @fd as one of this part's
 * kinds, or NULL; "unknown" for a kind not of this part. */
const char *handover_ext_fd_wrong(int fd, uint32_t kind);

#endif /* DMAD_HANDOVER_EXT_H */
