/* SPDX-License-Identifier: MIT */
/*
 * Channels, slow path: take one from the daemon, map and check its ring, and
 * give it back. Everything the submit path needs from the ring header is
 * checked and copied here once, so a daemon that scribbles on the header
 * later cannot make the library write outside the ring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "internal.h"

/* dmac_chan_put() waits this long for submitted copies; a hung device is
 * re-executed elsewhere by the daemon's watchdog well within it. */
#define PUT_WAIT_MS 5000

static bool is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* An array of @n entries of @size bytes at @off lies past the header, inside @ring_size. */
static bool span_ok(uint32_t off, uint32_t n, size_t size, size_t ring_size)
{
	return off >= sizeof(struct dmad_proto_ring) && off % 8 == 0 &&
	       (uint64_t)off + (uint64_t)n * size <= ring_size;
}

static int ring_map(struct dmac_chan *ch, int fd, size_t ring_size)
{
	struct dmad_proto_ring *ring;
	uint32_t sq_entries, err_entries, sq_off, err_off;
	uint64_t sq_end, err_end;
	struct stat st;

	/* Mapping past the end of the memfd would be SIGBUS on first touch. */
	if (ring_size < sizeof(*ring) || fstat(fd, &st) < 0 || (uint64_t)st.st_size < ring_size)
		return -EPROTO;
	ring = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		return -errno;
	ch->ring = ring;
	ch->ring_size = ring_size;

	/* Read each field once: the daemon could change them under us. */
	sq_entries = __atomic_load_n(&ring->sq_entries, __ATOMIC_RELAXED);
	err_entries = __atomic_load_n(&ring->err_entries, __ATOMIC_RELAXED);
	sq_off = __atomic_load_n(&ring->sq_offset, __ATOMIC_RELAXED);
	err_off = __atomic_load_n(&ring->err_offset, __ATOMIC_RELAXED);
	if (ring->magic != DMAD_PROTO_RING_MAGIC || ring->version != DMAD_PROTO_RING_VERSION ||
	    sq_entries != DMAD_PROTO_SQ_ENTRIES || !is_pow2(err_entries) ||
	    !span_ok(sq_off, sq_entries, sizeof(struct dmad_proto_desc), ring_size) ||
	    !span_ok(err_off, err_entries, sizeof(struct dmad_proto_err), ring_size))
		return -EPROTO;
	sq_end = (uint64_t)sq_off + (uint64_t)sq_entries * sizeof(struct dmad_proto_desc);
	err_end = (uint64_t)err_off + (uint64_t)err_entries * sizeof(struct dmad_proto_err);
	if (sq_off < err_end && err_off < sq_end)
		return -EPROTO;

	ch->sq = (struct dmad_proto_desc *)((uint8_t *)ring + sq_off);
	ch->err = (const struct dmad_proto_err *)((uint8_t *)ring + err_off);
	ch->err_entries = err_entries;
	/* Start from the ring's own indices and cookie rather than assume zero. */
	ch->tail = ch->published = __atomic_load_n(&ring->sq_tail, __ATOMIC_RELAXED);
	ch->cached_head = __atomic_load_n(&ring->sq_head, __ATOMIC_ACQUIRE);
	ch->last_used = ch->dev_last = ch->done_floor =
		__atomic_load_n(&ring->completed, __ATOMIC_ACQUIRE);
	if (ch->last_used > DMAD_PROTO_COOKIE_MAX)
		return -EPROTO;
	return 0;
}

/* $DMAC_COPYBREAK, a decimal byte count ("0100" is 100), else @dflt; a
 * value that does not parse is ignored. */
static size_t env_copybreak(size_t dflt)
{
	const char *s = getenv("DMAC_COPYBREAK");
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > SIZE_MAX)
		return dflt;
	return (size_t)v;
}

static void chan_free(struct dmac_chan *ch)
{
	if (ch->ring)
		munmap(ch->ring, ch->ring_size);
	if (ch->doorbell >= 0)
		close(ch->doorbell);
	free(ch);
}

static void chan_put_request(struct dmac_chan *ch)
{
	struct dmad_proto_chan_put_req req = {.chan_id = ch->chan_id};

	__dmac_request(ch->client, DMAD_PROTO_CHAN_PUT, &req, sizeof(req), -1, NULL, 0, NULL, 0);
}

DMAC_EXPORT int dmac_chan_get(struct dmac_client *c, unsigned caps, struct dmac_chan **ret_chan)
{
	struct dmad_proto_chan_get_req req = {.caps = caps};
	struct dmad_proto_chan_get_rep rep;
	struct dmac_chan *ch;
	int fds[2], r;

	if (!ret_chan || (caps & ~(DMAC_CAP_COPY | DMAC_CAP_FILL)))
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->client = c;
	ch->doorbell = -1;

	r = __dmac_request(c, DMAD_PROTO_CHAN_GET, &req, sizeof(req), -1, &rep, sizeof(rep), fds,
			   2);
	if (r < 0) {
		free(ch);
		return r;
	}
	ch->chan_id = rep.chan_id;
	ch->doorbell = fds[1];
	/* The mapping keeps the ring alive; its fd is not needed past this. */
	r = ring_map(ch, fds[0], rep.ring_size);
	close(fds[0]);
	if (r < 0) {
		chan_put_request(ch);
		chan_free(ch);
		return r;
	}
	dmac_chan_set_copybreak(ch, env_copybreak(rep.copybreak));
	memcpy(ch->device, rep.device, sizeof(ch->device) - 1);

	ch->next = c->chans;
	if (ch->next)
		ch->next->pprev = &ch->next;
	ch->pprev = &c->chans;
	c->chans = ch;
	*ret_chan = ch;
	return 0;
}

DMAC_EXPORT void dmac_chan_put(struct dmac_chan *ch)
{
	if (!ch)
		return;
	/* Its copies finish before the channel goes; a dead daemon returns at once. */
	dmac_wait(ch, (dmac_cookie_t)ch->last_used, PUT_WAIT_MS);
	chan_put_request(ch);

	*ch->pprev = ch->next;
	if (ch->next)
		ch->next->pprev = ch->pprev;
	chan_free(ch);
}

DMAC_EXPORT size_t dmac_chan_copybreak(const struct dmac_chan *ch)
{
	return ch->copybreak;
}

DMAC_EXPORT void dmac_chan_set_copybreak(struct dmac_chan *ch, size_t bytes)
{
	ch->copybreak = bytes;
	/* What dmactl shows for the channel: the daemon cannot know it otherwise. */
	__atomic_store_n(&ch->ring->client_copybreak,
			 bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes, __ATOMIC_RELAXED);
}

DMAC_EXPORT const char *dmac_chan_device(const struct dmac_chan *ch)
{
	return ch->device;
}
