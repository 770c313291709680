/* SPDX-License-Identifier: MIT */
/*
 * Every session kept in the service manager's fd store while dmad runs,
 * and the journal of their state beside it (handover_live.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "dmad_ring.h"
#include "handover_live.h"
#include "handover_replies.h"
#include "handover_state.h"
#include "log.h"

#define STORE "FDSTORE=1\nFDPOLL=0\nFDNAME="

static struct {
	bool on;
	bool broken; /* the store refused an fd: logged once */
	bool crashed;
	uint64_t epoch;
	void *(*build)(size_t *ret_len);
	struct handover_reply *(*replies)(uint32_t *ret_n);
	bool dirty;
	/* The journal: a memfd mapped whole, stored once it holds a state. */
	int jfd;
	uint8_t *map;
	size_t size;
	uint64_t cap[2]; /* room at each slot's offset, in this dmad */
	uint64_t seq;
	bool jstored;
	/* The name each fd is stored under, by number; NULL: not stored. */
	char **names;
	size_t nnames;
	/* Names a predecessor left, with the file each names: forgotten once
	 * our journal is stored, but those of fds kept (handover_live_add()). */
	struct old {
		char *name;
		int fd;
		dev_t dev;
		ino_t ino;
	} * old;
	int nold;
	/* The last answers a predecessor's journal kept, until the restore. */
	struct handover_reply *taken;
	uint32_t ntaken;
} live = {.jfd = -1};

bool handover_live_crashed(void)
{
	return live.crashed;
}

/* Test only (--fault-injection): DMAD_FAULT_STORE=N fails the Nth fd
 * stored and every one after, as a store that stopped taking them. */
static bool store_fault(void)
{
	static unsigned long n, left;
	static bool parsed;

	if (!dmad.cfg.fault_injection)
		return false;
	if (!parsed) {
		const char *e = getenv("DMAD_FAULT_STORE");

		parsed = true;
		n = e ? strtoul(e, NULL, 10) : 0;
		left = n;
	}
	if (!n || left > 1) {
		left -= left > 1;
		return false;
	}
	return true;
}

static int notify_fd(int fd, const char *name)
{
	char msg[sizeof(STORE) + sizeof(struct handover_live_name)];
	int ret;

	if (store_fault())
		return -ENOBUFS;
	snprintf(msg, sizeof(msg), STORE "%s", name);
	ret = sd_pid_notify_with_fds(0, false, msg, &fd, 1);
	return ret > 0 ? 0 : ret < 0 ? ret : -ENOTCONN;
}

/* @fd taken from the store under a name, if it is still that file. */
static char *inherited(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	for (int i = 0; i < live.nold; i++) {
		struct old *o = &live.old[i];
		char *name = o->name;

		if (name && o->fd == fd && o->dev == st.st_dev && o->ino == st.st_ino) {
			o->name = NULL;
			return name;
		}
	}
	return NULL;
}

int handover_live_init(void)
{
	if (getrandom(&live.epoch, sizeof(live.epoch), 0) != sizeof(live.epoch))
		live.epoch = (uint64_t)getpid() << 32 ^ dmad.main_ns;
	live.jfd = memfd_create("dmad-live-state", MFD_CLOEXEC);
	if (live.jfd < 0 || ftruncate(live.jfd, HANDOVER_LIVE_DATA) < 0)
		return log_error_errno(
			-errno,
			"cannot make the session journal: %m; a crash will end every session");
	live.map = mmap(NULL, HANDOVER_LIVE_DATA, PROT_READ | PROT_WRITE, MAP_SHARED, live.jfd, 0);
	if (live.map == MAP_FAILED) {
		live.map = NULL;
		return log_error_errno(
			-errno,
			"cannot map the session journal: %m; a crash will end every session");
	}
	live.size = HANDOVER_LIVE_DATA;
	*(struct handover_live_hdr *)live.map = (struct handover_live_hdr){
		.magic = HANDOVER_LIVE_MAGIC,
		.version = HANDOVER_LIVE_VERSION,
	};
	live.on = true;
	dmad.crash_safe = true;
	return 0;
}

/*
 * The store lost an fd, or the journal could not be written: the journal
 * no longer says the sessions as they are, and restored as it stands would
 * give clients a past they moved on from. So it is voided in place (the
 * store holds this very memfd): after a crash the next dmad refuses it and
 * starts clean, and clients see dmad gone, as without a store. For the
 * rest of this dmad's life; a planned restart still hands everything over.
 */
static void refused(int ret, const char *what)
{
	if (live.broken)
		return;
	log_error_errno(ret,
			"the fd store refused %s: %m; a crash of this dmad now ends every "
			"session (FileDescriptorStoreMax= too small?)",
			what);
	live.broken = true;
	if (live.map)
		__atomic_store_n(&((struct handover_live_hdr *)live.map)->magic, 0,
				 __ATOMIC_RELEASE);
}

void handover_live_add(int fd, bool reopen)
{
	char name[sizeof(struct handover_live_name)], path[32];
	int sfd = fd, ret;

	if (!live.on || fd < 0)
		return;
	if ((size_t)fd >= live.nnames) {
		size_t n = (size_t)fd * 2 + 64;
		char **t = realloc(live.names, n * sizeof(*t));

		if (!t)
			return refused(-ENOMEM, "an fd");
		memset(t + live.nnames, 0, (n - live.nnames) * sizeof(*t));
		live.names = t;
		live.nnames = n;
	}
	/* Kept from the store: stored again, the same open file would be
	 * dropped as a duplicate. */
	if (!reopen && (live.names[fd] = inherited(fd)))
		return;
	if (reopen) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		sfd = open(path, (fcntl(fd, F_GETFL) & O_ACCMODE) | O_CLOEXEC);
		if (sfd < 0)
			return refused(-errno, "a region's memfd");
	}
	snprintf(name, sizeof(name), HANDOVER_LIVE_PREFIX "%016" PRIx64 "-%d", live.epoch, fd);
	ret = notify_fd(sfd, name);
	if (sfd != fd)
		close(sfd);
	if (ret < 0)
		return refused(ret, "an fd");
	live.names[fd] = strdup(name);
	if (!live.names[fd])
		refused(-ENOMEM, "an fd");
}

void handover_live_drop(int fd)
{
	if (!live.on || fd < 0 || (size_t)fd >= live.nnames || !live.names[fd])
		return;
	/* The journal stops naming it before its name may name another. */
	handover_live_sync();
	sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", live.names[fd]);
	free(live.names[fd]);
	live.names[fd] = NULL;
}

void handover_live_dirty(void)
{
	live.dirty = true;
}

/* Room for @len bytes in slot @k, out of the other slot's way. */
static int make_room(unsigned k, size_t len)
{
	uint64_t cap = ((uint64_t)len + len / 2 + HANDOVER_LIVE_DATA - 1) &
		       ~(uint64_t)(HANDOVER_LIVE_DATA - 1);
	void *m;

	if (live.cap[k] >= len)
		return 0;
	if (live.size + cap > 4ull * HANDOVER_MAX_LEN)
		return -E2BIG;
	if (ftruncate(live.jfd, (off_t)(live.size + cap)) < 0)
		return -errno;
	m = mremap(live.map, live.size, live.size + cap, MREMAP_MAYMOVE);
	if (m == MAP_FAILED)
		return -errno;
	live.map = m;
	((struct handover_live_hdr *)live.map)->slot[k].off = live.size;
	live.cap[k] = cap;
	live.size += cap;
	return 0;
}

static void forget_old(void)
{
	for (int i = 0; i < live.nold; i++) {
		if (live.old[i].name)
			sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", live.old[i].name);
		free(live.old[i].name);
	}
	free(live.old);
	live.old = NULL;
	live.nold = 0;
}

static int write_journal(const void *buf, size_t len, const struct handover_reply *replies,
			 uint32_t nreplies)
{
	struct handover_live_hdr *h = (struct handover_live_hdr *)live.map;
	char name[sizeof(struct handover_live_name)];
	struct handover_live_name *names;
	struct handover_view v;
	unsigned k = !h->sel;
	const char *why;
	int ret = handover_state_parse(buf, len, &v, &why);

	if (ret == 0)
		ret = make_room(k, len + v.h->nfds * sizeof(*names) +
					   (size_t)nreplies * sizeof(*replies));
	if (ret < 0)
		return ret;
	h = (struct handover_live_hdr *)live.map;
	memcpy(live.map + h->slot[k].off, buf, len);
	/* After the state, the name each entry of its fd table is stored under. */
	names = (struct handover_live_name *)(live.map + h->slot[k].off + len);
	for (uint32_t i = 0; i < v.h->nfds; i++) {
		int fd = v.fds[i].fd;
		const char *n = fd >= 0 && (size_t)fd < live.nnames ? live.names[fd] : NULL;

		/* Not stored: the next dmad would refuse the state whole. */
		if (!n)
			return -EBADF;
		memset(&names[i], 0, sizeof(names[i]));
		snprintf(names[i].name, sizeof(names[i].name), "%s", n);
	}
	/* After the names, the answers a client may not have seen. */
	if (nreplies)
		memcpy(names + v.h->nfds, replies, (size_t)nreplies * sizeof(*replies));
	h->slot[k].len = len;
	h->slot[k].nnames = v.h->nfds;
	h->slot[k].nreplies = nreplies;
	h->slot[k].seq = ++live.seq;
	/* The slot is whole before sel names it: a dmad killed before this
	 * store leaves the other one, whole too. */
	__atomic_store_n(&h->sel, k, __ATOMIC_RELEASE);
	if (!live.jstored) {
		snprintf(name, sizeof(name), HANDOVER_LIVE_PREFIX "%016" PRIx64 "-state",
			 live.epoch);
		ret = notify_fd(live.jfd, name);
		if (ret < 0)
			return ret;
		live.jstored = true;
		/* Ours names every session now: what the predecessor left can go. */
		forget_old();
	}
	return 0;
}

void handover_live_sync(void)
{
	struct handover_reply *replies = NULL;
	uint32_t nreplies = 0;
	size_t len = 0;
	void *buf;
	int ret;

	if (!live.on || !live.dirty || !live.build || live.broken)
		return;
	buf = live.build(&len);
	if (buf && live.replies && !(replies = live.replies(&nreplies)))
		ret = -ENOMEM;
	else
		ret = buf ? write_journal(buf, len, replies, nreplies) : -ENOMEM;
	free(replies);
	free(buf);
	if (ret < 0)
		return refused(ret, "the session journal");
	live.dirty = false;
}

void handover_live_start(void *(*build)(size_t *ret_len),
			 struct handover_reply *(*replies)(uint32_t *ret_n))
{
	/* The restore has taken what it needed of them. */
	free(live.taken);
	live.taken = NULL;
	live.ntaken = 0;
	if (!live.on)
		return;
	live.build = build;
	live.replies = replies;
	live.dirty = true;
	handover_live_sync();
}

void handover_live_unstore(void)
{
	if (!live.on)
		return;
	for (size_t fd = 0; fd < live.nnames; fd++)
		if (live.names[fd]) {
			sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", live.names[fd]);
			free(live.names[fd]);
			live.names[fd] = NULL;
		}
	if (live.jstored)
		sd_notifyf(0,
			   "FDSTOREREMOVE=1\nFDNAME=" HANDOVER_LIVE_PREFIX "%016" PRIx64 "-state",
			   live.epoch);
	live.jstored = false;
	live.on = false;
}

/* The journal at @fd, if whole: its state slot. */
static int read_journal(int fd, struct handover_live_slot *ret_slot)
{
	struct handover_live_hdr h;
	const char *why = NULL;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return -EINVAL;
	ret = handover_live_parse(&h, (uint64_t)st.st_size, ret_slot, &why);
	if (ret == -EINVAL)
		log_warning("a session journal in the fd store is refused: %s", why);
	return ret;
}

/* The answers of a journal's slot, @rlen bytes at @off of @jfd: those that
 * may be sent again (handover_reply_ok()), for handover_live_reply(). */
static int take_replies(int jfd, uint64_t off, size_t rlen)
{
	uint32_t n = (uint32_t)(rlen / sizeof(struct handover_reply));
	struct handover_reply *r = malloc(rlen + sizeof(*r));

	if (!r || pread(jfd, r, rlen, (off_t)off) != (ssize_t)rlen) {
		free(r);
		return -EIO;
	}
	live.ntaken = 0;
	for (uint32_t i = 0; i < n; i++)
		if (handover_reply_ok(&r[i]))
			r[live.ntaken++] = r[i];
	free(live.taken);
	live.taken = r;
	return 0;
}

const struct handover_reply *handover_live_reply(uint32_t client_id)
{
	for (uint32_t i = 0; i < live.ntaken; i++)
		if (live.taken[i].client_id == client_id)
			return &live.taken[i];
	return NULL;
}

/* The state of @slot and its names from @jfd: the state into a memfd of
 * its own, for handover_read(), with the stall counted from this dmad's
 * start (when the last one died is not known). */
static int copy_state(int jfd, const struct handover_live_slot *slot, void **ret_buf,
		      struct handover_live_name **ret_names)
{
	size_t nlen = slot->nnames * sizeof(struct handover_live_name);
	size_t rlen = slot->nreplies * sizeof(struct handover_reply);
	uint8_t *buf = malloc(slot->len);
	struct handover_live_name *names = malloc(nlen + 1);
	int fd = memfd_create("dmad-handover", MFD_CLOEXEC);

	if (!buf || !names || fd < 0 ||
	    pread(jfd, buf, slot->len, (off_t)slot->off) != (ssize_t)slot->len ||
	    pread(jfd, names, nlen, (off_t)(slot->off + slot->len)) != (ssize_t)nlen ||
	    take_replies(jfd, slot->off + slot->len + nlen, rlen) < 0)
		goto fail;
	if (slot->len >= sizeof(struct handover_hdr))
		((struct handover_hdr *)buf)->started_ns = dmad.main_ns;
	if (write(fd, buf, slot->len) != (ssize_t)slot->len)
		goto fail;
	*ret_buf = buf;
	*ret_names = names;
	return fd;
fail:
	free(buf);
	free(names);
	if (fd >= 0)
		close(fd);
	return -EIO;
}

/* The passed fd stored under @name (untrusted: maybe unterminated). */
static int32_t find_fd(char **names, int n, const struct handover_live_name *want)
{
	if (!memchr(want->name, 0, sizeof(want->name)) || !handover_live_ours(want->name))
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], want->name))
			return SD_LISTEN_FDS_START + i;
	return -1;
}

static int keep_old(char **names, int n)
{
	live.old = calloc((size_t)n + 1, sizeof(*live.old));
	if (!live.old)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct old *o = &live.old[live.nold];
		struct stat st = {0};

		if (!handover_live_ours(names[i]) || !(o->name = strdup(names[i])))
			continue;
		o->fd = SD_LISTEN_FDS_START + i;
		if (fstat(o->fd, &st) == 0) {
			o->dev = st.st_dev;
			o->ino = st.st_ino;
		}
		live.nold++;
	}
	return 0;
}

int handover_live_take(char **names, int n, int *ret_state_fd, int32_t **ret_map, uint32_t *ret_n)
{
	struct handover_live_slot best = {0}, s;
	struct handover_live_name *stored = NULL;
	struct handover_view v;
	const char *why;
	int bestfd = -1, fd;
	void *buf = NULL;
	int32_t *map;
	uint32_t nmap = 0;

	for (int i = 0; i < n; i++)
		if (handover_live_is_journal(names[i]) &&
		    read_journal(SD_LISTEN_FDS_START + i, &s) == 0 &&
		    (bestfd < 0 || s.seq > best.seq)) {
			best = s;
			bestfd = SD_LISTEN_FDS_START + i;
		}
	if (bestfd < 0)
		return 0;
	if (keep_old(names, n) < 0)
		return log_error_errno(-ENOMEM, "cannot take the fd store back: out of memory");
	live.seq = best.seq;
	fd = copy_state(bestfd, &best, &buf, &stored);
	if (fd < 0)
		return log_error_errno(fd, "cannot read the session journal: %m");
	/* Damaged, or names missing: handover_read() reads it again, and
	 * refuses it with its reason. */
	if (handover_state_parse(buf, best.len, &v, &why) == 0 && v.h->nfds == best.nnames)
		nmap = v.h->nfds;
	map = malloc(((size_t)nmap + 1) * sizeof(*map));
	if (!map) {
		free(buf);
		free(stored);
		close(fd);
		return log_error_errno(-ENOMEM, "cannot take the fd store back: out of memory");
	}
	for (uint32_t i = 0; i < nmap; i++)
		map[i] = find_fd(names, n, &stored[i]);
	free(buf);
	free(stored);
	live.crashed = true;
	*ret_state_fd = fd;
	*ret_map = map;
	*ret_n = nmap;
	log_notice("dmad ended without handing over: taking the sessions back from its journal "
		   "(write %" PRIu64 ")",
		   best.seq);
	return 1;
}

void handover_live_resume(int ring_fd, uint32_t *head, uint32_t *err_tail)
{
	size_t len = dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, 0);
	struct dmad_proto_ring *r = malloc(len);
	const struct dmad_proto_desc *sq = (const void *)(r + 1);
	uint32_t from, tail, done;

	if (!r || pread(ring_fd, r, len, 0) != (ssize_t)len) {
		free(r);
		return;
	}
	from = r->sq_head;
	tail = r->sq_tail;
	done = r->completed;
	/* The slots before sq_head retired; those after it were taken or not,
	 * done or not: done up to the one whose cookie `completed` shows. An
	 * impossible tail is left to the worker, which faults the ring. */
	*head = from;
	*err_tail = r->err_tail;
	for (uint32_t i = from; tail - from <= DMAD_PROTO_SQ_ENTRIES && i != tail; i++)
		if (sq[i & (DMAD_PROTO_SQ_ENTRIES - 1)].cookie == done) {
			*head = i + 1;
			break;
		}
	free(r);
}
