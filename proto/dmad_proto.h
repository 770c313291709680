/* SPDX-License-Identifier: MIT */
/*
 * Control protocol between clients (libdmaclient, dmactl) and dmad.
 *
 * AF_UNIX SOCK_SEQPACKET: one message per packet, a fixed header then a
 * typed body. Requests get exactly one reply with the same type and seq and a
 * status (0 or -errno). Events flow daemon -> client with seq 0. File
 * descriptors travel as SCM_RIGHTS on the message that names them.
 * Layouts and constants only: nothing here allocates.
 */
#ifndef DMAD_PROTO_H
#define DMAD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DMAD_PROTO_MAGIC	 0x44414d44u /* "DMAD" */
#define DMAD_PROTO_VERSION_MAJOR 1u
/* Minor 1: HELLO carries the liveness page, STATUS and FLOWS are open to
 * every client; 2: STATUS ends with its tail, then the quotas; 3: then the
 * daemon's totals and its released devices, RESET_FAILED, and refusals
 * that carry a reason (dmad_proto_error); 4: MONITOR; 5: SHARE_SET and
 * SHARES, a device's recent load and a channel's NUMA node in STATUS;
 * 6: RESTART, the RESTARTED event and the liveness page's handover word;
 * 7: STATUS ends with each client's totals and the gone clients' records,
 * which RESET_FAILED of "" clears too; 8: DMAD_PROTO_DF_NO_STRIPE; 9:
 * SHARES names each client's systemd unit and lists the units' default
 * shares; 10: RESTARTED says when receive flows ended (a crash); 11: a
 * request sent again after RESTARTED, with the seq it had, is answered as
 * it was, not done twice (below). */
#define DMAD_PROTO_VERSION_MINOR 11u

#define DMAD_PROTO_SOCKET_DEFAULT "/run/dmad/dmad.sock"
#define DMAD_PROTO_SOCKET_ENV	  "DMAD_SOCKET"

#define DMAD_PROTO_NAME_MAX 32	  /* client, device and driver names, NUL included */
#define DMAD_PROTO_REQ_MAX  4096  /* largest request the daemon accepts */
#define DMAD_PROTO_MSG_MAX  65536 /* largest message the daemon sends */
#define DMAD_PROTO_FDS_MAX  2	  /* most fds one message carries */
#define DMAD_PROTO_UNIT_MAX 256	  /* systemd unit names, NUL included (systemd's UNIT_NAME_MAX) */

enum dmad_proto_type {
	DMAD_PROTO_HELLO = 1,	   /* reply + 1 fd: the liveness page (below) */
	DMAD_PROTO_REGION_REG = 2, /* + 1 fd: the sealed memfd */
	DMAD_PROTO_REGION_UNREG = 3,
	DMAD_PROTO_CHAN_GET = 4, /* reply + 2 fds: ring memfd, doorbell eventfd */
	DMAD_PROTO_CHAN_PUT = 5,
	DMAD_PROTO_RX_OPEN = 6, /* reply + 2 fds: receive area memfd, eventfd; dmad_rx.h */
	DMAD_PROTO_RX_CLOSE = 7,
	DMAD_PROTO_STATUS = 64,	    /* any client; other clients' details to admins only */
	DMAD_PROTO_DEV_REMOVE = 65, /* admin; replied when the device is released */
	DMAD_PROTO_DEV_ADD = 66,    /* admin */
	DMAD_PROTO_DEV_FAULT = 67,  /* admin; only with dmad --fault-injection */
	DMAD_PROTO_LOG_LEVEL = 68,  /* admin */
	DMAD_PROTO_FLOWS = 69,	    /* any client; other clients' flows to admins only; dmad_rx.h */
	DMAD_PROTO_RESET_FAILED = 70, /* admin; forget released devices */
	DMAD_PROTO_MONITOR = 71,      /* any client; then MONITOR_EVENTs until it closes (below) */
	DMAD_PROTO_SHARE_SET = 72,    /* admin: a client's or a uid's weight or rate limit */
	DMAD_PROTO_SHARES = 73,	      /* any client; other clients' shares to admins only */
	DMAD_PROTO_RESTART = 74,      /* admin; replied, then dmad execs itself keeping sessions */
	DMAD_PROTO_EVENT = 128,	      /* daemon -> client, unsolicited */
	DMAD_PROTO_MONITOR_EVENT = 129, /* daemon -> monitor, unsolicited */
};

#define DMAD_PROTO_F_REPLY (1u << 0)

/*
 * The liveness page, a memfd of DMAD_PROTO_LIFE_SIZE bytes that HELLO's reply
 * carries, sealed so that clients can map it only read-only. Its first 32-bit
 * word is dmad's robust futex (a process-shared robust mutex its main thread
 * holds for life): it holds that thread's id until dmad ends, however it
 * ends, when the kernel clears the id and sets FUTEX_OWNER_DIED. A client
 * learns that dmad is gone with one load, and no system call.
 */
#define DMAD_PROTO_LIFE_SIZE	 4096u
#define DMAD_PROTO_LIFE_TID_MASK 0x3fffffffu /* the kernel's FUTEX_TID_MASK */

static inline int dmad_proto_life_gone(uint32_t word)
{
	return !(word & DMAD_PROTO_LIFE_TID_MASK);
}

/*
 * The page's handover word, a 32-bit word at this offset: dmad sets it to
 * 1 just before it execs itself to hand its sessions to the next dmad
 * (RESTART). A client that finds the mutex word gone and this word set is
 * in a restart, not bereaved: the next dmad sends it a RESTARTED event
 * carrying a new liveness page. Gone with the word clear: dmad died.
 */
#define DMAD_PROTO_LIFE_HANDOVER_OFF 64u

struct dmad_proto_hdr {
	uint32_t magic;
	uint16_t major;
	uint16_t minor;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;	/* body bytes after this header */
	int32_t status; /* replies: 0 or -errno; requests: 0 */
};

/*
 * A refusal (status < 0) has no body, or since minor 3 this one: what went
 * wrong in words, for a person (DEV_ADD: what DPDK said). NUL-terminated
 * within the field; a reader checks both.
 */
#define DMAD_PROTO_ERROR_MAX 256

struct dmad_proto_error {
	char text[DMAD_PROTO_ERROR_MAX];
};

struct dmad_proto_hello_req {
	char name[DMAD_PROTO_NAME_MAX];
};

struct dmad_proto_hello_rep {
	uint32_t client_id;
	uint32_t copybreak; /* daemon's calibrated default, bytes */
	uint32_t max_regions;
	uint32_t max_channels;
	uint64_t max_bytes_mapped;
};

struct dmad_proto_region_reg_req {
	uint64_t len; /* bytes of the memfd to map, from offset 0 */
};

struct dmad_proto_region_reg_rep {
	uint32_t region_id;
	uint32_t rsvd;
};

struct dmad_proto_region_unreg_req {
	uint32_t region_id;
	uint32_t rsvd;
};

/* Capabilities a client may ask for (dmad_proto_chan_get_req.caps). */
#define DMAD_PROTO_CAP_COPY (1u << 0)
#define DMAD_PROTO_CAP_FILL (1u << 1)

struct dmad_proto_chan_get_req {
	uint32_t caps;
	uint32_t rsvd;
};

struct dmad_proto_chan_get_rep {
	uint32_t chan_id;
	uint32_t ring_size; /* bytes to mmap from the ring memfd */
	uint32_t copybreak;
	uint32_t rsvd;
	char device[DMAD_PROTO_NAME_MAX]; /* "" when on CPU fallback */
};

struct dmad_proto_chan_put_req {
	uint32_t chan_id;
	uint32_t rsvd;
};

enum dmad_proto_dev_state {
	DMAD_PROTO_DEV_ONLINE = 0,
	DMAD_PROTO_DEV_DRAINING = 1,
	DMAD_PROTO_DEV_OFFLINE = 2,
	DMAD_PROTO_DEV_RELEASED = 3, /* inside dmad only: on its way to one of these */
	DMAD_PROTO_DEV_REMOVED = 4,  /* released on request (DEV_REMOVE) */
	DMAD_PROTO_DEV_FAILED = 5,   /* stopped completing, or did not drain in time */
	DMAD_PROTO_DEV_GONE = 6,     /* unplugged without warning */
};

/* dmad_proto_status.flags and dmad_proto_flows.flags */
#define DMAD_PROTO_LIST_TRUNCATED (1u << 0) /* records were left out to fit the reply */
#define DMAD_PROTO_LIST_OWN_ONLY  (1u << 1) /* not an admin: only the asker's own records */

/*
 * STATUS reply body: this header, then ndev, nclient and nchan records,
 * then struct dmad_proto_status_tail, then the quotas (below), then (minor
 * 3) struct dmad_proto_totals and its released device records, then
 * (minor 7) struct dmad_proto_client_totals and its records. Every
 * device; the clients and channels are all of them for an admin, and only
 * the asking connection's own for anyone else (flag OWN_ONLY).
 */
struct dmad_proto_status {
	uint32_t ndev;
	uint32_t nclient;
	uint32_t nchan;
	uint32_t flags; /* DMAD_PROTO_LIST_* */
	uint64_t ops;	/* since dmad started, released devices' too: never decreases */
	uint64_t bytes;
};

struct dmad_proto_dev_info {
	char name[DMAD_PROTO_NAME_MAX];
	char driver[DMAD_PROTO_NAME_MAX];
	uint64_t capa; /* RTE_DMA_CAPA_* */
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;
	uint32_t dev_id;
	uint32_t state; /* enum dmad_proto_dev_state */
	uint32_t vchans;
	uint32_t channels;
	uint32_t copybreak;
	uint32_t worker;
	uint64_t load; /* bytes per second over about the last second (minor 3) */
};

struct dmad_proto_client_info {
	char name[DMAD_PROTO_NAME_MAX];
	uint64_t bytes_mapped;
	uint32_t client_id;
	int32_t pid;
	uint32_t uid;
	uint32_t channels;
	uint32_t regions;
	uint32_t rsvd;
};

struct dmad_proto_chan_info {
	char device[DMAD_PROTO_NAME_MAX]; /* "" when on CPU fallback */
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;
	uint32_t client_id;
	uint32_t chan_id;
	uint32_t copybreak;
	int32_t node; /* the client's NUMA node it was placed for; -1: none (minor 3) */
};

/*
 * What the daemon is set to, after the STATUS records. A reply that ends
 * before it comes from a dmad older than minor 2; later minors may append
 * fields, so a reader checks the length, not equality.
 */
struct dmad_proto_status_tail {
	uint32_t log_level; /* syslog priority, LOG_ERR 3 ... LOG_DEBUG 7: as LOG_LEVEL sets it */
	uint32_t rsvd;
};

/*
 * After the status tail: what the asker's uid holds against its limits;
 * for an admin also what every client holds together, then what each other
 * uid with a client holds, as many as fit (else flag TRUNCATED). Rows come
 * KINDS at a time.
 */
enum dmad_proto_quota_kind {
	DMAD_PROTO_QUOTA_CLIENTS = 0,  /* connections */
	DMAD_PROTO_QUOTA_REGIONS = 1,  /* mapped client memory, unregistered but in use too */
	DMAD_PROTO_QUOTA_CHANNELS = 2, /* rings, put but not yet drained too */
	DMAD_PROTO_QUOTA_MAPS = 3,     /* mappings in dmad: regions + rings */
	DMAD_PROTO_QUOTA_BYTES = 4,    /* bytes those mappings span */
	DMAD_PROTO_QUOTA_FDS = 5,      /* fds dmad holds for them */
	DMAD_PROTO_QUOTA_KINDS = 6,
};

#define DMAD_PROTO_QUOTA_ALL  UINT32_MAX /* dmad_proto_quota.uid: every client together */
#define DMAD_PROTO_QUOTA_NONE UINT64_MAX /* dmad_proto_quota.limit: no limit of its own */

struct dmad_proto_quotas {
	uint32_t nquota; /* dmad_proto_quota records that follow */
	uint32_t rsvd;
};

struct dmad_proto_quota {
	uint32_t kind; /* enum dmad_proto_quota_kind */
	uint32_t uid;  /* or DMAD_PROTO_QUOTA_ALL */
	uint64_t used;
	uint64_t limit; /* past it, requests get -EDQUOT */
};

/*
 * After the quotas (minor 3): what every engine did since dmad started,
 * live and released devices and dmad's CPU engine together; these never
 * decrease. Then nreleased records: the devices released since start (or
 * since RESET_FAILED), newest last, at most DMAD_PROTO_RELEASED_MAX.
 */
struct dmad_proto_totals {
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;
	uint32_t released;  /* devices released since start */
	uint32_t nreleased; /* dmad_proto_released records that follow */
};

#define DMAD_PROTO_RELEASED_MAX 32
#define DMAD_PROTO_REASON_MAX	96

struct dmad_proto_released {
	char name[DMAD_PROTO_NAME_MAX];
	char driver[DMAD_PROTO_NAME_MAX];
	char reason[DMAD_PROTO_REASON_MAX]; /* NUL-terminated */
	uint64_t when_us;		    /* CLOCK_REALTIME, when it was released */
	uint64_t ops;			    /* its counters when it was released */
	uint64_t bytes;
	uint64_t errors;
	uint32_t state; /* DMAD_PROTO_DEV_REMOVED, _FAILED or _GONE */
	uint32_t rsvd;
};

/*
 * After the released devices (minor 7): nclient sums, one for each client
 * record of the reply and in its order (what the client's channels did,
 * channels it put included: never decreases while it is connected), then
 * ngone records of clients that took a channel and disconnected since
 * start (or since RESET_FAILED), newest last, at most DMAD_PROTO_GONE_MAX;
 * others' only to an admin, as the client records (OWN_ONLY: none).
 */
struct dmad_proto_client_totals {
	uint32_t nclient; /* dmad_proto_client_sum records that follow */
	uint32_t ngone;	  /* then dmad_proto_gone_client records */
};

struct dmad_proto_client_sum {
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;
	uint32_t client_id;
	uint32_t rsvd;
};

#define DMAD_PROTO_GONE_MAX 32

struct dmad_proto_gone_client {
	char name[DMAD_PROTO_NAME_MAX];
	uint64_t when_us; /* CLOCK_REALTIME, when it disconnected */
	uint64_t ops;	  /* its totals, final */
	uint64_t bytes;
	uint64_t errors;
	uint32_t client_id;
	int32_t pid;
	uint32_t uid;
	uint32_t rsvd;
};

/* RESET_FAILED: forget the released device @name, or all of them ("") and
 * (minor 7) every gone client's record. -ENOENT when there is no record of
 * @name. */
struct dmad_proto_reset_failed_req {
	char name[DMAD_PROTO_NAME_MAX];
};

#define DMAD_PROTO_DEVARGS_MAX 128

struct dmad_proto_dev_remove_req {
	char name[DMAD_PROTO_NAME_MAX];
	uint32_t timeout_ms; /* 0: the daemon's default */
	uint32_t rsvd;
};

/* DEV_REMOVE reply body: this, then nmoved records. */
struct dmad_proto_dev_remove_rep {
	uint64_t drain_us;     /* from the request to the device's release */
	uint64_t max_stall_us; /* longest time any moved channel was not served */
	uint32_t nmoved;
	uint32_t timed_out; /* 1: the drain ran out of time; in-flight work was redone */
};

struct dmad_proto_moved {
	char to[DMAD_PROTO_NAME_MAX]; /* "cpu": the daemon's CPU engine */
	uint64_t stall_us;
	uint32_t client_id;
	uint32_t chan_id;
};

struct dmad_proto_dev_add_req {
	char devargs[DMAD_PROTO_DEVARGS_MAX]; /* "dma_skeleton2", "0000:00:04.0", ... */
};

struct dmad_proto_dev_add_rep {
	char name[DMAD_PROTO_NAME_MAX];
	uint32_t moved; /* channels that came back from CPU fallback */
	uint32_t rsvd;
};

enum dmad_proto_fault {
	DMAD_PROTO_FAULT_HANG = 1, /* the device stops completing, as if unplugged */
};

struct dmad_proto_dev_fault_req {
	char name[DMAD_PROTO_NAME_MAX];
	uint32_t fault; /* enum dmad_proto_fault */
	uint32_t rsvd;
};

/* LOG_LEVEL: dmad logs messages of @level and more urgent, syslog numbering
 * (LOG_ERR 3 ... LOG_DEBUG 7), until the next reload or LOG_LEVEL. */
struct dmad_proto_log_level_req {
	uint32_t level;
	uint32_t rsvd;
};

/* SHARE_SET: whose share, and what of it. */
enum dmad_proto_share_scope {
	DMAD_PROTO_SHARE_CLIENT = 1, /* id: a client id */
	DMAD_PROTO_SHARE_UID = 2, /* id: a uid; its clients' default weight, their rate together */
};

enum dmad_proto_share_what {
	DMAD_PROTO_SHARE_WEIGHT = 1, /* value: 1..10000; an engine is shared by weight */
	DMAD_PROTO_SHARE_RATE = 2,   /* value: bytes per second; 0: no limit */
};

#define DMAD_PROTO_SHARE_WEIGHT_MIN 1u
#define DMAD_PROTO_SHARE_WEIGHT_MAX 10000u
#define DMAD_PROTO_SHARE_WEIGHT_DEF 100u

struct dmad_proto_share_set_req {
	uint32_t scope; /* enum dmad_proto_share_scope */
	uint32_t id;
	uint32_t what; /* enum dmad_proto_share_what */
	uint32_t rsvd;
	uint64_t value;
};

/*
 * SHARES reply body: this header, then nclient client records, then nuid
 * uid records (those with a setting of their own), then (minor 9) nunit
 * unit records: the units the listed clients run in and those with a
 * default share. Every client for an admin, the asker's own only for
 * anyone else (flag OWN_ONLY, as STATUS).
 */
struct dmad_proto_shares {
	uint32_t nclient;
	uint32_t nuid;
	uint32_t flags; /* DMAD_PROTO_LIST_* */
	uint32_t nunit; /* 0 before minor 9 */
};

struct dmad_proto_share_client {
	uint32_t client_id;
	uint32_t uid;
	uint32_t weight;
	uint32_t unit; /* its systemd unit: 1 + its unit record's index; 0: none */
	uint64_t rate; /* bytes per second; 0: no limit of its own */
};

struct dmad_proto_share_uid {
	uint32_t uid;
	uint32_t weight; /* default for its new clients; 0: the daemon's */
	uint64_t rate;	 /* its clients together; 0: no limit */
};

struct dmad_proto_share_unit {
	uint32_t weight; /* default for its clients; 0: none (its uid's) */
	uint32_t rsvd;
	uint64_t rate;			/* its clients together; 0: none (their uid's) */
	char name[DMAD_PROTO_UNIT_MAX]; /* "backup.service", NUL-terminated */
};

enum dmad_proto_event_type {
	DMAD_PROTO_EV_CHAN_MOVED = 1,
	DMAD_PROTO_EV_CHAN_CPU = 2,
	DMAD_PROTO_EV_DEV_ADDED = 3,
	DMAD_PROTO_EV_SHUTDOWN = 4,
	/* dmad restarted with this client's session: + 1 fd, the new liveness
	 * page; stall_us: from the restart's start to this session's resume. */
	DMAD_PROTO_EV_RESTARTED = 5,
};

struct dmad_proto_event {
	uint32_t type;	  /* enum dmad_proto_event_type */
	uint32_t chan_id; /* RESTARTED (minor 10): DMAD_PROTO_RESTARTED_* flags */
	uint64_t stall_us;
	char from[DMAD_PROTO_NAME_MAX];
	char to[DMAD_PROTO_NAME_MAX];
};

/* After a crash: the new dmad could not take (all of) the client's
 * receive flows back (a journal without them, a ledger that does not fit
 * the socket's rings); its copy sessions went on. */
#define DMAD_PROTO_RESTARTED_RX_ENDED (1u << 0)

/*
 * A request still unanswered when a RESTARTED event comes (minor 11: the
 * event's header says so) may have been lost with the dmad that read it,
 * or done with its answer lost: the client sends it again, as it was (the
 * same seq, body and fds). dmad answers a request of the type and seq it
 * last answered that client (HELLO, REGION_REG, REGION_UNREG, CHAN_GET,
 * CHAN_PUT, MONITOR; the crash journal keeps that answer) with the answer
 * it gave, and does it only once; any other request is done as new. So
 * the client may get two replies of one seq: it takes the first. A client
 * of minor 11 therefore gives a new request a seq other than its last
 * one's (as one that counts up does).
 */
#define DMAD_PROTO_MINOR_REPLAY 11u

/*
 * After MONITOR's reply, the connection gets one MONITOR_EVENT (seq 0) per
 * thing that happens in dmad, as it happens: every event for an admin;
 * for anyone else (as STATUS) only those about devices and its own
 * connection. Events that do not fit in the monitor's socket buffer are
 * counted, never waited for: the next event that fits is a LOST record
 * with their number first.
 */
enum dmad_proto_mon_type {
	DMAD_PROTO_MON_LOST = 1,	  /* @count events were dropped here */
	DMAD_PROTO_MON_DEV_ADDED = 2,	  /* @device */
	DMAD_PROTO_MON_DEV_REMOVED = 3,	  /* @device released; @count channels moved off it */
	DMAD_PROTO_MON_DEV_FAILED = 4,	  /* @device taken offline; @detail says why */
	DMAD_PROTO_MON_DEV_UNPLUGGED = 5, /* @device left the bus under dmad */
	DMAD_PROTO_MON_CHAN_MOVED =
		6, /* @client_id's @chan_id from @device to @to, stalled @count us */
	DMAD_PROTO_MON_CLIENT_CONNECTED = 7, /* @client_id, @pid, @uid said HELLO as @name */
	DMAD_PROTO_MON_CLIENT_GONE = 8,	     /* @client_id's connection closed */
	DMAD_PROTO_MON_FLOW_DROPS =
		9, /* @client_id's flow @chan_id dropped @count more datagrams */
};

struct dmad_proto_monitor_event {
	uint64_t time_ns; /* CLOCK_REALTIME, when dmad saw it */
	uint64_t count;	  /* by type, above */
	uint32_t type;	  /* enum dmad_proto_mon_type */
	uint32_t client_id;
	uint32_t chan_id; /* FLOW_DROPS: the flow's id */
	int32_t pid;
	uint32_t uid;
	uint32_t rsvd;
	char device[DMAD_PROTO_NAME_MAX]; /* "cpu": dmad's CPU engine; "": the library's */
	char to[DMAD_PROTO_NAME_MAX];
	char name[DMAD_PROTO_NAME_MAX];
	char detail[64];
};

_Static_assert(sizeof(struct dmad_proto_hdr) == 24, "header is 24 bytes");
_Static_assert(offsetof(struct dmad_proto_hdr, type) == 8, "type offset");
_Static_assert(offsetof(struct dmad_proto_hdr, seq) == 12, "seq offset");
_Static_assert(offsetof(struct dmad_proto_hdr, len) == 16, "len offset");
_Static_assert(offsetof(struct dmad_proto_hdr, status) == 20, "status offset");
_Static_assert(sizeof(struct dmad_proto_hello_req) == 32, "hello req");
_Static_assert(sizeof(struct dmad_proto_hello_rep) == 24, "hello rep");
_Static_assert(sizeof(struct dmad_proto_region_reg_req) == 8, "region reg req");
_Static_assert(sizeof(struct dmad_proto_region_reg_rep) == 8, "region reg rep");
_Static_assert(sizeof(struct dmad_proto_region_unreg_req) == 8, "region unreg req");
_Static_assert(sizeof(struct dmad_proto_chan_get_req) == 8, "chan get req");
_Static_assert(sizeof(struct dmad_proto_chan_get_rep) == 48, "chan get rep");
_Static_assert(sizeof(struct dmad_proto_chan_put_req) == 8, "chan put req");
_Static_assert(sizeof(struct dmad_proto_status) == 32, "status");
_Static_assert(sizeof(struct dmad_proto_dev_info) == 128, "dev info");
_Static_assert(sizeof(struct dmad_proto_client_info) == 64, "client info");
_Static_assert(sizeof(struct dmad_proto_chan_info) == 72, "chan info");
_Static_assert(sizeof(struct dmad_proto_quotas) == 8, "quotas");
_Static_assert(sizeof(struct dmad_proto_quota) == 24, "quota");
_Static_assert(sizeof(struct dmad_proto_status_tail) == 8, "status tail");
_Static_assert(sizeof(struct dmad_proto_totals) == 32, "totals");
_Static_assert(sizeof(struct dmad_proto_released) == 200, "released");
_Static_assert(offsetof(struct dmad_proto_released, when_us) == 160, "released when");
_Static_assert(sizeof(struct dmad_proto_client_totals) == 8, "client totals");
_Static_assert(sizeof(struct dmad_proto_client_sum) == 32, "client sum");
_Static_assert(sizeof(struct dmad_proto_gone_client) == 80, "gone client");
_Static_assert(sizeof(struct dmad_proto_reset_failed_req) == 32, "reset-failed req");
_Static_assert(sizeof(struct dmad_proto_error) == 256, "error");
_Static_assert(sizeof(struct dmad_proto_event) == 80, "event");
_Static_assert(sizeof(struct dmad_proto_monitor_event) == 200, "monitor event");
_Static_assert(offsetof(struct dmad_proto_monitor_event, device) == 40, "monitor event device");
_Static_assert(sizeof(struct dmad_proto_dev_remove_req) == 40, "remove req");
_Static_assert(sizeof(struct dmad_proto_dev_remove_rep) == 24, "remove rep");
_Static_assert(sizeof(struct dmad_proto_moved) == 48, "moved");
_Static_assert(sizeof(struct dmad_proto_dev_add_req) == 128, "add req");
_Static_assert(sizeof(struct dmad_proto_dev_add_rep) == 40, "add rep");
_Static_assert(sizeof(struct dmad_proto_dev_fault_req) == 40, "fault req");
_Static_assert(sizeof(struct dmad_proto_log_level_req) == 8, "log level req");
_Static_assert(sizeof(struct dmad_proto_share_set_req) == 24, "share set req");
_Static_assert(sizeof(struct dmad_proto_shares) == 16, "shares");
_Static_assert(sizeof(struct dmad_proto_share_client) == 24, "share client");
_Static_assert(sizeof(struct dmad_proto_share_uid) == 16, "share uid");
_Static_assert(sizeof(struct dmad_proto_share_unit) == 272, "share unit");

#endif /* DMAD_PROTO_H */
