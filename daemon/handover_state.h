/* SPDX-License-Identifier: MIT */
/*
 * The state one dmad hands to the next across a restart (handover.c):
 * every session as records, and a table of the file descriptors they are
 * made of, each with its kind. It travels in a memfd whose number the next
 * dmad gets on its command line, with the fds themselves inherited across
 * exec.
 *
 * The next dmad trusts none of it: a state that is short, of another
 * version, that names a record, an id or an fd out of range, or an fd that
 * is not of its kind, is refused whole (handover_state_parse(),
 * handover_state_check_fds()), and dmad starts clean.
 *
 * Layout: the header, then nclients client records, nregions region
 * records, nchans channel records, ndevices device records and nfds fd
 * records, back to back, then the part handover_ext.h describes. The
 * header gives each record's size, so a reader tells a layout it does not
 * know from a damaged one; this version reads only its own sizes.
 */
#ifndef DMAD_HANDOVER_STATE_H
#define DMAD_HANDOVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmad_proto.h"
#include "handover_ext.h"

#define HANDOVER_MAGIC	 0x4f484d44u /* "DMHO" */
#define HANDOVER_VERSION 3u	     /* 2: device records; 3: handover_ext.h's part */
/* Far above what the largest session count makes, far below trouble. */
#define HANDOVER_MAX_LEN (256u << 20)
/* Descriptors carry 16-bit region ids. */
#define HANDOVER_MAX_REGION_ID UINT16_MAX
/* device.h's DEVICE_COPYBREAK_MAX: what calibration can find at most. */
#define HANDOVER_MAX_COPYBREAK 65536u

enum handover_fd_kind {
	HANDOVER_FD_LISTEN = 1,	  /* the control socket, listening */
	HANDOVER_FD_CLIENT = 2,	  /* a client's connection */
	HANDOVER_FD_REGION = 3,	  /* a client's memfd, sealed against shrinking */
	HANDOVER_FD_RING = 4,	  /* a channel's ring: dmad's own sealed memfd */
	HANDOVER_FD_DOORBELL = 5, /* a channel's doorbell eventfd */
	/* handover_ext.h's: a receive flow's and what it is received on. */
	HANDOVER_FD_RX_AREA = 6,   /* a flow's receive area: dmad's sealed memfd */
	HANDOVER_FD_RX_EVENT = 7,  /* a flow's eventfd, the client sleeps on it */
	HANDOVER_FD_XSK = 8,	   /* an AF_XDP socket */
	HANDOVER_FD_UMEM = 9,	   /* its UMEM: dmad's sealed memfd */
	HANDOVER_FD_BPF_LINK = 10, /* the bpf_link attaching the XDP program */
	HANDOVER_FD_BPF_MAP = 11,  /* one of that program's maps */
};
#define HANDOVER_FD_KIND_MAX HANDOVER_FD_BPF_MAP

#define HANDOVER_F_SOCKET_OWNED                                          \
	(1u << 0) /* dmad bound the control socket: unlink it at the end \
		   */

struct handover_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_size; /* sizeof(struct handover_hdr) */
	uint32_t len;	   /* the whole state, this header included */
	uint32_t flags;	   /* HANDOVER_F_* */
	uint16_t client_size, region_size, chan_size, fd_size;
	uint32_t nclients, nregions, nchans, nfds;
	uint32_t listen_fd; /* index in the fd table */
	uint32_t rsvd2;
	uint64_t started_ns; /* CLOCK_MONOTONIC: the old dmad began handing over */
	uint64_t generation; /* restarts with handover so far, this one included */
	uint16_t device_size;
	uint16_t rsvd3;
	uint32_t ndevices;
};

#define HANDOVER_CLIENT_HELLO	(1u << 0) /* said hello: its name is set */
#define HANDOVER_CLIENT_MONITOR (1u << 1) /* asked MONITOR: its stream goes on */

struct handover_client {
	uint32_t id;   /* != 0, unique */
	uint32_t sock; /* fd table index, HANDOVER_FD_CLIENT */
	uint32_t next_chan_id;
	uint32_t flags; /* HANDOVER_CLIENT_* */
	char name[DMAD_PROTO_NAME_MAX];
};

struct handover_region {
	uint32_t client; /* client record index */
	uint32_t id;	 /* <= HANDOVER_MAX_REGION_ID, unique per client */
	uint64_t len;	 /* > 0 */
	uint32_t fd;	 /* fd table index, HANDOVER_FD_REGION */
	uint32_t flags;	 /* HANDOVER_REGION_* */
};

/* Unregistered, but descriptors in a ring may still name it: it keeps its
 * id until every channel has taken them (region_table.h). */
#define HANDOVER_REGION_RETIRED (1u << 0)

#define HANDOVER_CHAN_ENGINE (1u << 0) /* served by a worker; else the library copies */

struct handover_chan {
	uint32_t client; /* client record index */
	uint32_t id;	 /* != 0, <= the client's next_chan_id, unique per client */
	uint32_t caps;	 /* DMAD_PROTO_CAP_* */
	uint32_t copybreak;
	uint32_t ring;	   /* fd table index, HANDOVER_FD_RING */
	uint32_t doorbell; /* fd table index, HANDOVER_FD_DOORBELL */
	uint32_t head;	   /* consumer index: where the next dmad resumes */
	uint32_t err_tail; /* error records produced (the worker's own count) */
	uint32_t flags;	   /* HANDOVER_CHAN_* */
	uint32_t rsvd;
	uint64_t ops, bytes, errors;
	char device[DMAD_PROTO_NAME_MAX]; /* where it was: placed there again if it exists */
};

/* What the old dmad measured of a device at its start, so that the next
 * need not measure again while clients wait (calib.c). */
struct handover_device {
	char name[DMAD_PROTO_NAME_MAX]; /* terminated */
	uint32_t copybreak;		/* calibrated, <= HANDOVER_MAX_COPYBREAK */
	uint32_t rsvd;
};

struct handover_fd {
	uint32_t kind; /* enum handover_fd_kind */
	int32_t fd;    /* its number, inherited across exec; > 2, unique */
};

_Static_assert(sizeof(struct handover_hdr) == 72, "handover header");
_Static_assert(offsetof(struct handover_hdr, ndevices) == 68, "handover device count");
_Static_assert(offsetof(struct handover_hdr, nclients) == 24, "handover counts");
_Static_assert(offsetof(struct handover_hdr, started_ns) == 48, "handover times");
_Static_assert(sizeof(struct handover_client) == 48, "handover client");
_Static_assert(sizeof(struct handover_region) == 24, "handover region");
_Static_assert(sizeof(struct handover_chan) == 96, "handover channel");
_Static_assert(sizeof(struct handover_device) == 40, "handover device");
_Static_assert(sizeof(struct handover_fd) == 8, "handover fd");

/* A checked state: pointers into the buffer handover_state_parse() read. */
struct handover_view {
	const struct handover_hdr *h;
	const struct handover_client *clients;
	const struct handover_region *regions;
	const struct handover_chan *chans;
	const struct handover_device *devices;
	const struct handover_fd *fds;
	struct handover_ext_view ext;
};

/* Bytes a state with these counts takes (its handover_ext.h part with
 * no records but the clients'). */
size_t handover_state_size(uint32_t nclients, uint32_t nregions, uint32_t nchans, uint32_t ndevices,
			   uint32_t nfds);
/* The same, with @x's counts for that part (x->nclients is @nclients). */
size_t handover_state_size_ext(uint32_t nclients, uint32_t nregions, uint32_t nchans,
			       uint32_t ndevices, uint32_t nfds,
			       const struct handover_ext_counts *x);

/*
 * handover_state_init() - write a header for these counts at @buf (of
 * handover_state_size() bytes, 8-aligned, zeroed) and point @ret_view's
 * records into it, for the writer to fill in.
 */
void handover_state_init(void *buf, uint32_t nclients, uint32_t nregions, uint32_t nchans,
			 uint32_t ndevices, uint32_t nfds, struct handover_view *ret_view);
/* The same, with @x's counts for the handover_ext.h part. */
void handover_state_init_ext(void *buf, uint32_t nclients, uint32_t nregions, uint32_t nchans,
			     uint32_t ndevices, uint32_t nfds, const struct handover_ext_counts *x,
			     struct handover_view *ret_view);

/*
 * handover_state_read() - the whole of the state memfd @fd, at most
 * HANDOVER_MAX_LEN bytes, into a malloc'd buffer (*@ret_buf, *@ret_len).
 * Returns 0, -EINVAL when empty or too long, -ENOMEM, or a read's -errno.
 */
int handover_state_read(int fd, void **ret_buf, size_t *ret_len);

/*
 * handover_state_parse() - check @len bytes at @buf (8-aligned) as a state:
 * header, sizes, every index and id in range, every fd of the table named
 * by exactly one record of its kind, names terminated. Touches no fd.
 * Returns 0 and fills @ret_view, or -EPROTONOSUPPORT (another version),
 * -EINVAL (anything else), with *@ret_why saying what, for the log.
 */
int handover_state_parse(const void *buf, size_t len, struct handover_view *ret_view,
			 const char **ret_why);

/*
 * handover_state_check_fds() - is every fd of a parsed state open and of
 * its kind (fstat, F_GET_SEALS, the memfd's name, the socket's type)?
 * Returns 0, or -EBADF with *@ret_why and the offending entry's index in
 * *@ret_index.
 */
int handover_state_check_fds(const struct handover_view *v, const char **ret_why,
			     uint32_t *ret_index);

/* Does /proc name @fd's file @want... ("/memfd:NAME", "anon_inode:[eventfd]")? */
bool handover_fd_link_is(int fd, const char *want);
/* Is @fd a regular file (a memfd) with at least the seals @want? */
bool handover_fd_sealed(int fd, int want);

#endif /* DMAD_HANDOVER_STATE_H */
