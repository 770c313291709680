/* SPDX-License-Identifier: MIT */
/*
 * Writing and checking the handover state (handover_state.h). The checks
 * are the whole defence of the next dmad against a damaged state: nothing
 * reads a record before all of them passed. libc only, so that the fuzz
 * target builds it alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmad_ring.h"
#include "handover_state.h"

/* Bytes up to the end of the fd table: where the handover_ext.h part starts. */
static size_t base_size(uint32_t nclients, uint32_t nregions, uint32_t nchans, uint32_t ndevices,
			uint32_t nfds)
{
	return sizeof(struct handover_hdr) + (size_t)nclients * sizeof(struct handover_client) +
	       (size_t)nregions * sizeof(struct handover_region) +
	       (size_t)nchans * sizeof(struct handover_chan) +
	       (size_t)ndevices * sizeof(struct handover_device) +
	       (size_t)nfds * sizeof(struct handover_fd);
}

size_t handover_state_size_ext(uint32_t nclients, uint32_t nregions, uint32_t nchans,
			       uint32_t ndevices, uint32_t nfds,
			       const struct handover_ext_counts *x)
{
	return base_size(nclients, nregions, nchans, ndevices, nfds) + handover_ext_size(x);
}

size_t handover_state_size(uint32_t nclients, uint32_t nregions, uint32_t nchans, uint32_t ndevices,
			   uint32_t nfds)
{
	const struct handover_ext_counts x = {.nclients = nclients};

	return handover_state_size_ext(nclients, nregions, nchans, ndevices, nfds, &x);
}

static void view(const void *buf, const struct handover_hdr *h, struct handover_view *v)
{
	const uint8_t *p = (const uint8_t *)buf + sizeof(*h);

	v->h = h;
	v->clients = (const void *)p;
	p += (size_t)h->nclients * sizeof(struct handover_client);
	v->regions = (const void *)p;
	p += (size_t)h->nregions * sizeof(struct handover_region);
	v->chans = (const void *)p;
	p += (size_t)h->nchans * sizeof(struct handover_chan);
	v->devices = (const void *)p;
	p += (size_t)h->ndevices * sizeof(struct handover_device);
	v->fds = (const void *)p;
}

void handover_state_init(void *buf, uint32_t nclients, uint32_t nregions, uint32_t nchans,
			 uint32_t ndevices, uint32_t nfds, struct handover_view *ret_view)
{
	const struct handover_ext_counts x = {.nclients = nclients};

	handover_state_init_ext(buf, nclients, nregions, nchans, ndevices, nfds, &x, ret_view);
}

void handover_state_init_ext(void *buf, uint32_t nclients, uint32_t nregions, uint32_t nchans,
			     uint32_t ndevices, uint32_t nfds, const struct handover_ext_counts *x,
			     struct handover_view *ret_view)
{
	struct handover_hdr *h = buf;

	*h = (struct handover_hdr){
		.magic = HANDOVER_MAGIC,
		.version = HANDOVER_VERSION,
		.hdr_size = sizeof(*h),
		.len = (uint32_t)handover_state_size_ext(nclients, nregions, nchans, ndevices, nfds,
							 x),
		.client_size = sizeof(struct handover_client),
		.region_size = sizeof(struct handover_region),
		.chan_size = sizeof(struct handover_chan),
		.fd_size = sizeof(struct handover_fd),
		.nclients = nclients,
		.nregions = nregions,
		.nchans = nchans,
		.nfds = nfds,
		.device_size = sizeof(struct handover_device),
		.ndevices = ndevices,
	};
	view(buf, h, ret_view);
	handover_ext_init((uint8_t *)buf + base_size(nclients, nregions, nchans, ndevices, nfds), x,
			  &ret_view->ext);
}

#define REFUSE(why)               \
	do {                      \
		*ret_why = (why); \
		goto refuse;      \
	} while (0)

/* Take fd table entry @i for a record that needs one of @kind. */
static bool claim(const struct handover_view *v, uint8_t *used, uint32_t i, uint32_t kind)
{
	if (i >= v->h->nfds || used[i] || v->fds[i].kind != kind)
		return false;
	used[i] = 1;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Are the @n keys at @k (sorted here) all different? */
static bool unique(uint64_t *k, size_t n)
{
	qsort(k, n, sizeof(*k), cmp_u64);
	for (size_t i = 1; i < n; i++)
		if (k[i] == k[i - 1])
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	return memchr(s, '\0', DMAD_PROTO_NAME_MAX) != NULL;
}

static bool header_ok(const struct handover_hdr *h, size_t len, const char **ret_why)
{
	if (h->flags & ~HANDOVER_F_SOCKET_OWNED)
		*ret_why = "header flags this version does not know";
	else if (h->hdr_size != sizeof(*h) || h->client_size != sizeof(struct handover_client) ||
		 h->region_size != sizeof(struct handover_region) ||
		 h->chan_size != sizeof(struct handover_chan) ||
		 h->device_size != sizeof(struct handover_device) ||
		 h->fd_size != sizeof(struct handover_fd))
		*ret_why = "record sizes differ from this version's";
	else if (h->len != len)
		*ret_why = "its length field disagrees with its size (truncated?)";
	else if (base_size(h->nclients, h->nregions, h->nchans, h->ndevices, h->nfds) > len)
		*ret_why = "its record counts do not add up to its size";
	else if (h->listen_fd >= h->nfds)
		*ret_why = "no control socket in its fd table";
	else
		return true;
	return false;
}

int handover_state_parse(const void *buf, size_t len, struct handover_view *ret_view,
			 const char **ret_why)
{
	const struct handover_hdr *h = buf;
	struct handover_view v;
	uint64_t *keys = NULL;
	uint8_t *used = NULL;
	uint32_t i;

	/* Magic and version first: each version's header may have its own size. */
	if ((uintptr_t)buf % 8 || len < offsetof(struct handover_hdr, hdr_size) ||
	    len > HANDOVER_MAX_LEN)
		REFUSE("shorter than its header, or too long");
	if (h->magic != HANDOVER_MAGIC)
		REFUSE("not a dmad handover state (bad magic)");
	if (h->version != HANDOVER_VERSION) {
		*ret_why = "of another version than this dmad reads";
		return -EPROTONOSUPPORT;
	}
	if (len < sizeof(*h))
		REFUSE("shorter than its header");
	if (!header_ok(h, len, ret_why))
		goto refuse;
	view(buf, h, &v);
	used = calloc(h->nfds ? h->nfds : 1, 1);
	keys = calloc((size_t)h->nfds + h->nclients + h->nregions + h->nchans + 1, sizeof(*keys));
	if (!used || !keys)
		REFUSE("out of memory checking it");

	for (i = 0; i < h->nfds; i++) {
		if (v.fds[i].kind < HANDOVER_FD_LISTEN || v.fds[i].kind > HANDOVER_FD_KIND_MAX)
			REFUSE("an fd of unknown kind");
		if (v.fds[i].fd <= STDERR_FILENO)
			REFUSE("an fd number out of range");
		keys[i] = (uint32_t)v.fds[i].fd;
	}
	if (!unique(keys, h->nfds))
		REFUSE("the same fd twice in its table");
	if (!claim(&v, used, h->listen_fd, HANDOVER_FD_LISTEN))
		REFUSE("its control socket entry is not a listening socket");

	for (i = 0; i < h->nclients; i++) {
		const struct handover_client *c = &v.clients[i];

		if (!c->id || (c->flags & ~(HANDOVER_CLIENT_HELLO | HANDOVER_CLIENT_MONITOR)) ||
		    !name_ok(c->name))
			REFUSE("a client record with a bad id, flags or name");
		if (!claim(&v, used, c->sock, HANDOVER_FD_CLIENT))
			REFUSE("a client whose socket entry is missing, shared or of another kind");
		keys[i] = c->id;
	}
	if (!unique(keys, h->nclients))
		REFUSE("two clients with the same id");

	for (i = 0; i < h->nregions; i++) {
		const struct handover_region *r = &v.regions[i];

		if (r->client >= h->nclients || r->id > HANDOVER_MAX_REGION_ID || !r->len)
			REFUSE("a region with its client, id or length out of range");
		if (r->flags & ~HANDOVER_REGION_RETIRED)
			REFUSE("a region with a flag this version does not know");
		if (!claim(&v, used, r->fd, HANDOVER_FD_REGION))
			REFUSE("a region whose memfd entry is missing, shared or of another kind");
		keys[i] = (uint64_t)r->client << 32 | r->id;
	}
	if (!unique(keys, h->nregions))
		REFUSE("two regions of a client with the same id");

	for (i = 0; i < h->nchans; i++) {
		const struct handover_chan *ch = &v.chans[i];

		if (ch->client >= h->nclients || !ch->id ||
		    ch->id > v.clients[ch->client].next_chan_id ||
		    (ch->caps & ~(DMAD_PROTO_CAP_COPY | DMAD_PROTO_CAP_FILL)) ||
		    (ch->flags & ~HANDOVER_CHAN_ENGINE) || !name_ok(ch->device))
			REFUSE("a channel with its client, id, caps, flags or device out of range");
		if (!claim(&v, used, ch->ring, HANDOVER_FD_RING) ||
		    !claim(&v, used, ch->doorbell, HANDOVER_FD_DOORBELL))
			REFUSE("a channel whose ring or doorbell entry is missing, shared or of "
			       "another kind");
		keys[i] = (uint64_t)ch->client << 32 | ch->id;
	}
	if (!unique(keys, h->nchans))
		REFUSE("two channels of a client with the same id");

	for (i = 0; i < h->ndevices; i++) {
		const struct handover_device *d = &v.devices[i];

		if (!d->name[0] || !name_ok(d->name) || !d->copybreak ||
		    d->copybreak > HANDOVER_MAX_COPYBREAK || d->rsvd)
			REFUSE("a device record with a bad name or copybreak");
	}
	if (!handover_ext_parse(
		    (const uint8_t *)buf +
			    base_size(h->nclients, h->nregions, h->nchans, h->ndevices, h->nfds),
		    len - base_size(h->nclients, h->nregions, h->nchans, h->ndevices, h->nfds), &v,
		    used, &v.ext, ret_why))
		goto refuse;
	/* An fd no record names would be inherited and never closed. */
	for (i = 0; i < h->nfds; i++)
		if (!used[i])
			REFUSE("an fd in its table that no record names");

	free(keys);
	free(used);
	*ret_view = v;
	return 0;

refuse:
	free(keys);
	free(used);
	return -EINVAL;
}

/* The memfd's name as /proc shows it ("/memfd:NAME (deleted)"), or anon_inode:[...]. */
bool handover_fd_link_is(int fd, const char *want)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strncmp(link, want, strlen(want));
}

static bool unix_seqpacket(int fd, bool listening)
{
	int domain = 0, type = 0, acc = 0;
	socklen_t l1 = sizeof(domain), l2 = sizeof(type), l3 = sizeof(acc);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l1) == 0 && domain == AF_UNIX &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l2) == 0 && type == SOCK_SEQPACKET &&
	       getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l3) == 0 && !!acc == listening;
}

bool handover_fd_sealed(int fd, int want)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & want) == want && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *fd_wrong(int fd, uint32_t kind)
{
	struct stat st;

	if (fcntl(fd, F_GETFD) < 0)
		return "an fd in its table is not open";
	switch (kind) {
	case HANDOVER_FD_LISTEN:
		return unix_seqpacket(fd, true) ? NULL
						: "its control socket is not a listening AF_UNIX "
						  "SOCK_SEQPACKET socket";
	case HANDOVER_FD_CLIENT:
		return unix_seqpacket(fd, false) ? NULL
						 : "a client's fd is not a connected AF_UNIX "
						   "SOCK_SEQPACKET socket";
	case HANDOVER_FD_REGION:
		return handover_fd_sealed(fd, F_SEAL_SHRINK)
			       ? NULL
			       : "a region's fd is not a memfd sealed against "
				 "shrinking";
	case HANDOVER_FD_RING:
		if (!handover_fd_link_is(fd, "/memfd:dmad-ring") ||
		    !handover_fd_sealed(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) ||
		    fstat(fd, &st) < 0 ||
		    st.st_size !=
			    dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES))
			return "a ring's fd is not a sealed dmad-ring memfd of a ring's size";
		return NULL;
	case HANDOVER_FD_DOORBELL:
		return handover_fd_link_is(fd, "anon_inode:[eventfd]")
			       ? NULL
			       : "a doorbell's fd is not an eventfd";
	}
	return handover_ext_fd_wrong(fd, kind);
}

int handover_state_check_fds(const struct handover_view *v, const char **ret_why,
			     uint32_t *ret_index)
{
	for (uint32_t i = 0; i < v->h->nfds; i++) {
		const char *why = fd_wrong(v->fds[i].fd, v->fds[i].kind);

		if (why) {
			*ret_why = why;
			*ret_index = i;
			return -EBADF;
		}
	}
	return 0;
}

int handover_state_read(int fd, void **ret_buf, size_t *ret_len)
{
	struct stat st;
	size_t done = 0;
	uint8_t *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || (uint64_t)st.st_size > HANDOVER_MAX_LEN)
		return -EINVAL;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EINVAL;
		}
		done += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = done;
	return 0;
}
