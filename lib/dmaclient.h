/* SPDX-License-Identifier: MIT */
/*
 * libdmaclient: borrow DMA copy engines owned by dmad.
 *
 * This header is the whole client contract. A client connects to the daemon,
 * registers the memory it copies from and to (regions), takes a channel, and
 * submits copies that the daemon's engines execute. Each submission returns a
 * cookie; completion is reported in cookie order per channel.
 *
 * Threading: a struct dmac_client may be used from several threads only if
 * the caller serialises calls on it (it holds the control socket). A struct
 * dmac_chan is used by one thread at a time: its submit and poll functions
 * take no lock. Different channels may be used from different threads at once.
 * The submit functions read the client's region table without a lock: do
 * not register or free regions while another thread submits on a channel of
 * the same client.
 *
 * Errors are negative errno values with one meaning each:
 *   -EAGAIN     ring full: retry after completions (never on a channel whose
 *               copies all go by the CPU: see dmac_memcpy())
 *   -EINVAL     memory not inside a registered region, or a bad argument
 *   -ENODEV     the daemon is gone (never "busy"): reconnect to go on
 *
 * Restarts: while dmad restarts in place (dmactl restart), every call
 * behaves as while a device drains: submissions queue in the ring (or get
 * -EAGAIN when it is full), dmac_wait() waits, requests wait for the new
 * dmad's answer. The session then goes on as it was, and a
 * DMAC_EVENT_RESTARTED is queued. Only a restart that takes longer than
 * the client's bound (dmac_set_restart_timeout(), 10 s by default), or one
 * the new dmad cannot resume (its connection closes), reads as -ENODEV.
 * Under a service manager with an fd store (dmad --fdstore), a crash of
 * dmad (SIGKILL, the watchdog's abort) is restarted the same way: copies
 * an engine held when dmad died are done again, in order. A copy is then
 * written twice, which is harmless, but for one case: a later copy
 * without DMAC_FENCE that overwrote this one's source before it completed
 * (A: x -> y, then B: z -> x, both in flight) makes the redone A copy
 * B's bytes. With DMAC_FENCE on B, dmad starts B only once A retired, and
 * a redo never reads what B wrote. A call waiting for dmad's answer when
 * it died (dmac_connect(), regions, channels, flows) sends its request
 * again once the next dmad says RESTARTED, and returns what it would
 * have, once: the next dmad answers a request it had done from what it
 * kept, and does any other then (a region or channel is never made twice).
 * Receive flows survive a crash too: each goes on where the dead dmad's
 * last published record left it, none delivered twice. Only when the
 * new dmad cannot take one of the client's flows back does its RESTARTED
 * event say so; once it is read, each flow opened before it returns
 * -ENODEV.
 *   -ETIMEDOUT  dmac_wait() ran out of time
 *   -EDQUOT     one of dmad's per-client limits is reached
 * Functions returning a pointer return NULL and set errno.
 *
 * Limits: dmad's per-client defaults are 256 regions, 64 GiB mapped, 64
 * channels, 16 receive flows of at most 1 GiB each; a region's id stays
 * taken until every copy submitted on it has retired, out of 65536. A
 * channel's ring holds 1024 descriptors and remembers its 64 newest
 * failures. One copy or fill is at most 4 GiB - 1 bytes.
 */
#ifndef DMACLIENT_H
#define DMACLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dmac_client;
struct dmac_chan;
struct dmac_rx;

/* >= 0: a cookie; negative: -errno. */
typedef int32_t dmac_cookie_t;

enum dmac_status {
	DMAC_COMPLETE,
	DMAC_IN_PROGRESS,
	DMAC_ERROR,
};

/* Capabilities for dmac_chan_get(). */
#define DMAC_CAP_COPY (1u << 0)
#define DMAC_CAP_FILL (1u << 1)

/*
 * Submission flags for dmac_memcpy() / dmac_fill(). Completion is reported
 * in order whatever the flags; the data writes of ops in flight together
 * are not ordered (an engine may run them in parallel). DMAC_FENCE orders
 * the data: the op starts only once every earlier op's writes on the
 * channel have landed. A copy that reads what an earlier one writes
 * (A->B, then B->C), or a write another process or device watches for (a
 * flag after its payload), needs it. So does a copy that overwrites the
 * source of an earlier one still in flight, if dmad may crash under a
 * service manager (see Restarts, above): the engine's copies are redone
 * after a crash, and only a fenced overwrite waits for the earlier copy
 * to retire.
 *
 * dmad may split a large copy (dmad --stripe-min: calibrated, between
 * 256 KiB and 16 MiB) across several engines; it still completes as one
 * op, in order, and a DMAC_FENCE op after it waits for every part.
 * DMAC_NO_STRIPE keeps a copy on the channel's one engine (a destination
 * read while it is written, or a measurement of one engine). A dmad older
 * than protocol minor 8 does not know the flag: its copy ends DMAC_ERROR
 * there.
 */
#define DMAC_FENCE	(1u << 0) /* land after every earlier op on the channel */
#define DMAC_HINT_CACHE (1u << 1) /* write the destination into the LLC if possible */
#define DMAC_NO_STRIPE	(1u << 2) /* keep this copy on one engine */

/*
 * Events, in the order dmad sent them. A removal sends CHAN_MOVED, or
 * CHAN_CPU when no engine is left, for each channel it moves. A hot-add
 * first moves the channels copying with the CPU onto the new device
 * (CHAN_MOVED from "cpu" or "") and then sends DEVICE_ADDED: when
 * DEVICE_ADDED arrives, they are on it already. Channels on an engine stay
 * where they are. Events are advice: dmad drops one that does not fit the
 * client's socket buffer, the library keeps the 64 newest undispatched,
 * and a channel's copies go on either way.
 */
enum dmac_event_type {
	DMAC_EVENT_CHAN_MOVED = 1,   /* channel moved to another device */
	DMAC_EVENT_CHAN_CPU = 2,     /* channel moved to dmad's CPU engine, "cpu" */
	DMAC_EVENT_DEVICE_ADDED = 3, /* a device came online: @to */
	DMAC_EVENT_SHUTDOWN = 4,     /* the daemon is going away */
	/* dmad restarted (dmactl restart) and resumed this session: regions,
	 * channels and cookies as they were; @stall_us: how long it was away. */
	DMAC_EVENT_RESTARTED = 5,
};

struct dmac_event {
	enum dmac_event_type type;
	/* CHAN_MOVED, CHAN_CPU: the channel; NULL for the others, and for a
	 * channel put since. */
	struct dmac_chan *chan;
	uint64_t stall_us; /* a removal's move: how long the channel was not served */
	/* Device names. "cpu" is dmad's CPU engine (an engine like the others);
	 * "" the library's own CPU copies (no engine when the channel was
	 * made), or no device: DEVICE_ADDED's @from, SHUTDOWN's both. */
	char from[32];
	char to[32];
};

/*
 * dmac_connect() - connect to dmad and say hello.
 * @path: control socket; NULL means $DMAD_SOCKET, then /run/dmad/dmad.sock.
 * @name: a short name for this client shown by `dmactl status` (may be NULL).
 * @ret_client: set on success, untouched on failure.
 *
 * Blocks (connect + one request/reply), allocates, makes system calls.
 * Any thread. Returns 0, -ENODEV when no daemon listens at @path,
 * -EPROTO when the daemon speaks an incompatible protocol version, -EACCES
 * when the socket refuses this user, -EDQUOT when the daemon runs but has
 * as many clients as its limits allow, in all or for this user (retry
 * later: that is not -ENODEV), -ENOMEM, -EINVAL (@ret_client NULL, or
 * @path too long for a socket address), or another -errno of socket(),
 * connect() or the daemon's answer to HELLO.
 */
int dmac_connect(const char *path, const char *name, struct dmac_client **ret_client);

/*
 * dmac_disconnect() - close every receive flow, put every channel (as
 * dmac_chan_put(), which may wait up to 5 s for a channel's copies), free
 * every region, close. Every pointer the client handed out is invalid
 * after it. Blocks, frees, makes system calls; no other thread may be
 * using the client or its channels. Accepts NULL.
 */
void dmac_disconnect(struct dmac_client *c);

/*
 * dmac_fd() - the control socket, readable when events are pending.
 * Poll it for POLLIN and call dmac_dispatch(). Never blocks.
 * (It is an epoll fd over the socket and the library's own event queue, so
 * events read off the socket while a request waited for its reply still make
 * it readable. Owned by the client: do not close it.)
 */
int dmac_fd(struct dmac_client *c);

/*
 * dmac_dispatch() - read pending events and run the event callback for each.
 * Never blocks (reads what is queued), makes system calls, no allocation.
 * Returns the number of events handled (>= 0), or -ENODEV when the daemon
 * has gone (events queued before it went are delivered first). The callback
 * may call any function but dmac_disconnect() on this client.
 */
int dmac_dispatch(struct dmac_client *c);

/*
 * dmac_set_event_cb() - set the callback dmac_dispatch() runs per event
 * (NULL: none), with @arg as its second argument. A client that never sets
 * one, or never dispatches, still works. Never blocks, no system call, no
 * allocation; any thread, serialised with the client's other calls.
 */
void dmac_set_event_cb(struct dmac_client *c, void (*cb)(const struct dmac_event *, void *),
		       void *arg);

/*
 * dmac_set_restart_timeout() - how long a restart of dmad (see Restarts,
 * above) may keep this client waiting before its calls say -ENODEV; 10000
 * ms until set. Never blocks, no system call, no allocation; any thread,
 * serialised with the client's other calls. Returns 0, or -EINVAL for a
 * negative @timeout_ms (0: a restart ends the session at once, as a crash).
 */
int dmac_set_restart_timeout(struct dmac_client *c, int timeout_ms);

/*
 * dmac_region_alloc() - allocate @len bytes of memory the daemon can copy
 * from and to: a memfd, sealed against shrinking, mapped MAP_SHARED here and
 * in the daemon. Blocks (one request/reply), allocates, makes system calls.
 * Returns the mapping, or NULL with errno: EINVAL (len 0, or the mapping
 * lands on a region the caller unmapped without dmac_region_free()), ENOMEM, ENODEV,
 * EDQUOT (a quota is reached: this client's, its user's, or the daemon's
 * mappings or bytes in all; a region freed counts until the copies that
 * use it have completed).
 */
void *dmac_region_alloc(struct dmac_client *c, size_t len);

/*
 * dmac_region_register() - register memory the caller mapped itself from a
 * memfd: @memfd must carry F_SEAL_SHRINK, and [@addr, @addr+@len) must be
 * the caller's MAP_SHARED mapping of its first @len bytes. The library keeps
 * no reference to @memfd after the call. Blocks, allocates, system calls.
 * Returns 0, -EINVAL (not a sealed memfd, a hugetlbfs one, or shorter than
 * @len), -ENODEV, -EDQUOT, -ENOMEM.
 */
int dmac_region_register(struct dmac_client *c, int memfd, void *addr, size_t len);

/*
 * dmac_region_free() - unregister the region starting at @addr; unmaps it if
 * dmac_region_alloc() made it. Copies already submitted that touch it, issued
 * or not, still complete normally: the call first issues what every channel
 * of @c has queued (as dmac_issue_pending()), and the daemon keeps its own
 * mapping, and the region's id, until they have. A region registered later
 * never receives them. Blocks, system calls; not while another thread
 * submits on a channel of @c. Returns 0, -EINVAL (no region starts at
 * @addr), -ENODEV (the region is forgotten, and unmapped if allocated, all
 * the same). The daemon's mapping counts against its user's and the
 * daemon's quotas until it is gone, and leaves its per-client quota at once.
 */
int dmac_region_free(struct dmac_client *c, void *addr);

/*
 * dmac_chan_get() - take a channel with at least @caps (DMAC_CAP_*).
 * When the daemon has no engine, the channel exists anyway and the library
 * copies with the CPU. Blocks, allocates, system calls. Any thread; the
 * channel is then used by one thread at a time.
 * Returns 0, -EINVAL (unknown caps), -ENODEV, -EDQUOT (this client's,
 * its user's or the daemon's channels, mappings or fds), -ENOMEM.
 */
int dmac_chan_get(struct dmac_client *c, unsigned caps, struct dmac_chan **ret_chan);

/*
 * dmac_chan_put() - give a channel back. Issues and waits for its submitted
 * copies first, up to 5 s (so its regions stay valid for them; a hung
 * device's are redone by dmad well within that), then tells the daemon.
 * Blocks, frees, system calls; at once when the daemon is gone. Channel's
 * thread, serialised with the client's other calls. Accepts NULL.
 */
void dmac_chan_put(struct dmac_chan *ch);

/*
 * dmac_memcpy() - queue a copy of @len bytes from @src to @dst; both ranges
 * must lie inside registered regions and must not overlap. Copies shorter
 * than the channel's copybreak are done at once by the CPU, but complete in
 * order: only once every earlier ring copy has. Does not ring the doorbell:
 * call dmac_issue_pending(). @flags: DMAC_FENCE, DMAC_HINT_CACHE,
 * DMAC_NO_STRIPE. Without
 * DMAC_FENCE a CPU copy runs before earlier engine copies may have landed;
 * with it, it queues behind them.
 *
 * A channel whose copies all go by the CPU (dmac_chan_device() is "", or
 * every copy is below copybreak) completes each at once and never returns
 * -EAGAIN: a loop that submits "until -EAGAIN" never ends on it. Submit in
 * batches of a bounded count instead (the ring holds 1024).
 *
 * Fast path: never blocks, never allocates, no system call, no locked
 * instruction (the one exception: when the ring is full it publishes what
 * is queued, as dmac_issue_pending() does, and polls the control socket once
 * to tell "full" from "daemon gone"). Channel's thread only.
 * Returns a cookie (>= 0), -EAGAIN (ring full; or a DMAC_FENCE op on a
 * channel that fell back to the CPU while its engine work is still
 * outstanding), -EINVAL (len 0 or > 4 GiB-1, unregistered memory, overlap),
 * -ENODEV (the daemon stopped or died: known from the first call after,
 * without asking it, through a page it shares read-only with every client).
 */
dmac_cookie_t dmac_memcpy(struct dmac_chan *ch, void *dst, const void *src, size_t len,
			  unsigned flags);

/*
 * dmac_fill() - queue a fill of @len bytes at @dst with the 8-byte @pattern
 * repeated (byte i of the destination is byte i % 8 of @pattern in memory
 * order). Same rules and returns as dmac_memcpy().
 */
dmac_cookie_t dmac_fill(struct dmac_chan *ch, void *dst, uint64_t pattern, size_t len,
			unsigned flags);

/*
 * dmac_issue_pending() - hand everything queued since the last call to the
 * daemon. Fast path: never blocks or allocates; makes one system call (an
 * eventfd write) only when the worker has gone to sleep. Channel's thread.
 */
void dmac_issue_pending(struct dmac_chan *ch);

/*
 * dmac_is_complete() - has @cookie completed? Completion is in cookie order:
 * DMAC_COMPLETE for a cookie means every earlier cookie on the channel has
 * completed too. DMAC_ERROR: it completed but failed (bad descriptor), or it
 * never will because the daemon stopped or died first, or @cookie is
 * negative; its destination is unspecified. Only the channel's 64 newest
 * failures are remembered: an older failure reads DMAC_COMPLETE.
 * Cookies are compared, not looked up (the kernel's dma_async_is_complete()):
 * one this channel never issued (0, one not handed out yet, another
 * channel's) reads DMAC_COMPLETE. Fast path: plain loads only, no system
 * call. Channel's thread.
 */
enum dmac_status dmac_is_complete(struct dmac_chan *ch, dmac_cookie_t cookie);

/*
 * dmac_wait() - issue what is queued (as dmac_issue_pending()), then wait
 * until @cookie completes, up to @timeout_ms (< 0: no limit). Spins for up
 * to 30 us, yielding the CPU while another task wants it (the daemon's
 * worker may be waiting for this very CPU), then sleeps on a futex in the
 * ring (the worker wakes it only when it sees the sleeper's flag). For
 * 10 ms after a yield ran a task that kept the CPU over 200 us, a wait with
 * nothing of the channel queued behind @cookie does not yield: it spins
 * 5 us, then sleeps (the wake-up preempts that task; a yield waits out its
 * time slice). @timeout_ms 0 looks once and never sleeps, but unlike dmac_is_complete()
 * it issues, and makes one poll() when the cookie is not complete, to tell
 * a live daemon from a dead one. A cookie never issued returns 0 at once
 * (see dmac_is_complete()). May block; system calls when it yields or
 * sleeps; no allocation. Channel's thread.
 * Returns 0 (complete), -EIO (completed with an error: see dmac_is_complete),
 * -ETIMEDOUT, -ENODEV (the daemon is gone; noticed within 50 ms while
 * asleep), -EINVAL (negative cookie).
 */
int dmac_wait(struct dmac_chan *ch, dmac_cookie_t cookie, int timeout_ms);

/*
 * dmac_chan_copybreak() / dmac_chan_set_copybreak() - copies shorter than
 * this many bytes are done by the CPU. The default is the daemon's
 * calibrated value, or $DMAC_COPYBREAK when set (decimal: "0100" is 100);
 * 0 sends every copy to the engine. Never block, no system call. Channel's
 * thread.
 */
size_t dmac_chan_copybreak(const struct dmac_chan *ch);
void dmac_chan_set_copybreak(struct dmac_chan *ch, size_t bytes);

/*
 * dmac_chan_device() - the engine the channel is on: a device name, "cpu"
 * for dmad's CPU engine, "" when the library copies with the CPU itself
 * (dmad had no engine when the channel was made). It changes when
 * dmac_dispatch() delivers the channel's DMAC_EVENT_CHAN_MOVED or
 * DMAC_EVENT_CHAN_CPU, not before: a client that never dispatches sees the
 * engine the channel started on. Never blocks; channel's thread.
 */
const char *dmac_chan_device(const struct dmac_chan *ch);

/*
 * Network receive offload (net_dma in userspace). The daemon receives a
 * flow's datagrams with AF_XDP and has a DMA engine copy each payload,
 * headers stripped, into a receive area: memory shared with this process,
 * cut into slot_count slots of slot_size bytes. Payloads are read in place
 * (dmac_rx_peek() / dmac_rx_release()) or copied out (dmac_rx_recv()), in
 * arrival order. A struct dmac_rx is used by one thread at a time;
 * dmac_disconnect() closes the flows still open.
 */

#define DMAC_RX_UDP 17 /* the one protocol: TCP payloads need the kernel's stack */

/* dmac_rx_spec.flags */
#define DMAC_RX_SET_COPYBREAK (1u << 0) /* use spec.copybreak, not the daemon's */

struct dmac_rx_spec {
	const char *ifname;  /* interface, in the daemon's network namespace */
	uint32_t queue;	     /* the NIC queue the flow arrives on (RSS / ntuple steer it) */
	int proto;	     /* DMAC_RX_UDP */
	uint16_t port;	     /* destination port, host byte order, 1..65535 */
	uint32_t slot_size;  /* longest payload kept, 64..65536; longer ones are dropped */
	uint32_t slot_count; /* slots in the area: a power of two, 1..65536 */
	unsigned flags;	     /* DMAC_RX_SET_COPYBREAK */
	uint32_t copybreak;  /* payloads shorter than this go by CPU, with the flag */
};

/* One received payload, inside the receive area. */
struct dmac_rx_pkt {
	const void *data;
	uint32_t len;
	uint32_t seq; /* the flow's datagram number from 1: a gap means drops */
};

/* A flow's counters, as the daemon last published them. */
struct dmac_rx_stats {
	uint64_t packets;	 /* delivered into the area */
	uint64_t bytes;		 /* of payload delivered */
	uint64_t drop_no_slot;	 /* every slot was held: release sooner or add slots */
	uint64_t drop_too_large; /* payload longer than slot_size */
	uint64_t drop_dma_error; /* the copy failed */
	uint64_t dma_copies;	 /* payloads copied by a DMA engine */
	uint64_t cpu_copies;	 /* payloads copied by the CPU (copybreak, no engine) */
};

/*
 * dmac_rx_open() - ask the daemon for a flow: UDP datagrams to @spec->port
 * arriving on @spec->ifname's queue @spec->queue. Other traffic on the
 * interface goes on to the kernel's stack untouched. Blocks (one request),
 * allocates, makes system calls. Any thread.
 * Returns 0 with *ret_rx set, or -EINVAL (port 0, slot count not a power
 * of two, unknown flags), -EMSGSIZE (slot_size outside 64..65536),
 * -EPROTONOSUPPORT (not DMAC_RX_UDP), -ENXIO (no such interface or queue
 * in the daemon's namespace), -EADDRINUSE (another flow has the port on
 * that interface; or, unless the caller is an admin, a socket in the
 * daemon's namespace has it, bound or connected, as bind() would refuse
 * it: the flow would take that socket's datagrams), -EACCES (a port
 * below 1024 needs an admin: root, dmad's user or group dma-admin),
 * -EDQUOT (16 flows per client, or an area over 1 GiB), -EPERM (the daemon
 * lacks CAP_NET_ADMIN/CAP_BPF), -EOPNOTSUPP (this dmad was built without
 * receive offload), -ENOMEM, -ENODEV.
 */
int dmac_rx_open(struct dmac_client *c, const struct dmac_rx_spec *spec, struct dmac_rx **ret_rx);

/*
 * dmac_rx_peek() - up to @max of the oldest payloads not yet released, in
 * order, without consuming them: the same ones come back until
 * dmac_rx_release(). pkts[i].data stays valid until released.
 * Fast path: never blocks or allocates; no system call, except one eventfd
 * read on the first call that finds payloads after one that found none
 * (that empty call arms dmac_rx_fd()). Flow's thread.
 * Returns the number filled (0: none yet), -ENODEV (the flow or the daemon
 * is gone and every payload has been read), -EPROTO (the daemon published
 * a record outside the area).
 */
int dmac_rx_peek(struct dmac_rx *rx, struct dmac_rx_pkt *pkts, unsigned max);

/*
 * dmac_rx_release() - give the @n oldest peeked slots back to the daemon
 * (more than are pending releases what is pending). Fast path: one store,
 * no system call. Flow's thread.
 */
void dmac_rx_release(struct dmac_rx *rx, unsigned n);

/*
 * dmac_rx_recv() - copy the oldest payload into @buf (at most @len bytes)
 * and release its slot; its sequence number goes to *ret_seq if not NULL.
 * Waits up to @timeout_ms (0: not at all, < 0: no limit) for one to come.
 * May block; system calls only when it sleeps; no allocation. Flow's thread.
 * Returns the payload's full length (more than @len: the rest was cut off),
 * -EAGAIN (none and @timeout_ms is 0), -ETIMEDOUT, -ENODEV, -EPROTO.
 */
int dmac_rx_recv(struct dmac_rx *rx, void *buf, size_t len, uint32_t *ret_seq, int timeout_ms);

/*
 * dmac_rx_fd() - an eventfd that becomes readable when payloads arrive
 * after a dmac_rx_peek() that returned 0, or when the flow ends: poll it
 * for POLLIN, then peek again. Owned by the flow: do not close or read it.
 * Never blocks.
 */
int dmac_rx_fd(const struct dmac_rx *rx);

/*
 * dmac_rx_stats() - the flow's counters. Plain loads from the shared area,
 * no system call. Returns 0.
 */
int dmac_rx_stats(const struct dmac_rx *rx, struct dmac_rx_stats *ret_stats);

/*
 * dmac_rx_close() - close the flow and unmap its area (pointers from
 * dmac_rx_peek() become invalid). Accepts NULL. Blocks (one request),
 * system calls. dmac_disconnect() closes flows left open.
 */
void dmac_rx_close(struct dmac_rx *rx);

#ifdef __cplusplus
}
#endif

#endif /* DMACLIENT_H */
