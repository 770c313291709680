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
 *   -EAGAIN     ring full: retry after completions
 *   -EINVAL     memory not inside a registered region, or a bad argument
 *   -ENODEV     the daemon is gone (never "busy"): reconnect to go on
 *   -ETIMEDOUT  dmac_wait() ran out of time
 * Functions returning a pointer return NULL and set errno.
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

/* Submission flags for dmac_memcpy() / dmac_fill(). */
#define DMAC_FENCE	(1u << 0) /* land after every earlier op on the channel */
#define DMAC_HINT_CACHE (1u << 1) /* write the destination into the LLC if possible */

enum dmac_event_type {
	DMAC_EVENT_CHAN_MOVED = 1,   /* channel moved to another device */
	DMAC_EVENT_CHAN_CPU = 2,     /* channel fell back to CPU copies */
	DMAC_EVENT_DEVICE_ADDED = 3, /* a device came online */
	DMAC_EVENT_SHUTDOWN = 4,     /* the daemon is going away */
};

struct dmac_event {
	enum dmac_event_type type;
	struct dmac_chan *chan; /* the channel concerned, or NULL */
	uint64_t stall_us;	/* longest submission stall the move caused */
	char from[32];		/* device names; "" for CPU or not applicable */
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
 * when the socket refuses this user, -ENOMEM.
 */
int dmac_connect(const char *path, const char *name, struct dmac_client **ret_client);

/*
 * dmac_disconnect() - put every channel, free every region, close.
 * Accepts NULL. Blocks briefly, frees, makes system calls.
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
 * dmac_set_event_cb() - set the callback dmac_dispatch() runs per event.
 * A client that never sets one, or never dispatches, still works.
 */
void dmac_set_event_cb(struct dmac_client *c, void (*cb)(const struct dmac_event *, void *),
		       void *arg);

/*
 * dmac_region_alloc() - allocate @len bytes of memory the daemon can copy
 * from and to: a memfd, sealed against shrinking, mapped MAP_SHARED here and
 * in the daemon. Blocks (one request/reply), allocates, makes system calls.
 * Returns the mapping, or NULL with errno: EINVAL (len 0), ENOMEM, ENODEV,
 * EDQUOT (the daemon's per-client quota is reached).
 */
void *dmac_region_alloc(struct dmac_client *c, size_t len);

/*
 * dmac_region_register() - register memory the caller mapped itself from a
 * memfd: @memfd must carry F_SEAL_SHRINK, and [@addr, @addr+@len) must be
 * the caller's MAP_SHARED mapping of its first @len bytes. The library keeps
 * no reference to @memfd after the call. Blocks, allocates, system calls.
 * Returns 0, -EINVAL (not a sealed memfd, or shorter than @len), -ENODEV,
 * -EDQUOT, -ENOMEM.
 */
int dmac_region_register(struct dmac_client *c, int memfd, void *addr, size_t len);

/*
 * dmac_region_free() - unregister the region starting at @addr; unmaps it if
 * dmac_region_alloc() made it. Copies already submitted that touch it still
 * complete: the daemon keeps its own mapping until they have. Blocks,
 * system calls. Returns 0, -EINVAL (no region starts at @addr), -ENODEV
 * (the region is forgotten, and unmapped if allocated, all the same).
 */
int dmac_region_free(struct dmac_client *c, void *addr);

/*
 * dmac_chan_get() - take a channel with at least @caps (DMAC_CAP_*).
 * When the daemon has no engine, the channel exists anyway and the library
 * copies with the CPU. Blocks, allocates, system calls. Any thread; the
 * channel is then used by one thread at a time.
 * Returns 0, -EINVAL (unknown caps), -ENODEV, -EDQUOT, -ENOMEM.
 */
int dmac_chan_get(struct dmac_client *c, unsigned caps, struct dmac_chan **ret_chan);

/*
 * dmac_chan_put() - give a channel back. Waits for its submitted copies to
 * complete first (so its regions stay valid for them). Accepts NULL.
 */
void dmac_chan_put(struct dmac_chan *ch);

/*
 * dmac_memcpy() - queue a copy of @len bytes from @src to @dst; both ranges
 * must lie inside registered regions and must not overlap. Copies shorter
 * than the channel's copybreak are done at once by the CPU. Does not ring the
 * doorbell: call dmac_issue_pending().
 *
 * Fast path: never blocks, never allocates, no system call, no locked
 * instruction (the one exception: when the ring is full it publishes what
 * is queued, as dmac_issue_pending() does, and polls the control socket once
 * to tell "full" from "daemon gone"). Channel's thread only.
 * Returns a cookie (>= 0), -EAGAIN (ring full; or a DMAC_FENCE op on a
 * channel that fell back to the CPU while its engine work is still
 * outstanding), -EINVAL (len 0 or > 4 GiB-1, unregistered memory, overlap),
 * -ENODEV.
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
 * completed too. DMAC_ERROR: it completed but failed (bad descriptor, engine
 * error); its destination is unspecified. Fast path: plain loads only, no
 * system call. Channel's thread.
 */
enum dmac_status dmac_is_complete(struct dmac_chan *ch, dmac_cookie_t cookie);

/*
 * dmac_wait() - wait until @cookie completes, up to @timeout_ms (< 0: no
 * limit). Spins briefly, then sleeps on a futex in the ring (the worker wakes
 * it only when it sees the sleeper's flag). May block; system calls when it
 * sleeps; no allocation. Channel's thread.
 * Returns 0 (complete), -EIO (completed with an error: see dmac_is_complete),
 * -ETIMEDOUT, -ENODEV (the daemon is gone), -EINVAL (negative cookie).
 */
int dmac_wait(struct dmac_chan *ch, dmac_cookie_t cookie, int timeout_ms);

/*
 * dmac_chan_copybreak() / dmac_chan_set_copybreak() - copies shorter than
 * this many bytes are done by the CPU. The default is the daemon's
 * calibrated value, or $DMAC_COPYBREAK when set. Channel's thread.
 */
size_t dmac_chan_copybreak(const struct dmac_chan *ch);
void dmac_chan_set_copybreak(struct dmac_chan *ch, size_t bytes);

/*
 * dmac_chan_device() - the engine the channel is on now ("" for CPU).
 * Never blocks; the name may change after a DMAC_EVENT_CHAN_MOVED.
 */
const char *dmac_chan_device(const struct dmac_chan *ch);

#ifdef __cplusplus
}
#endif

#endif /* DMACLIENT_H */
