/* SPDX-License-Identifier: MIT */
/*
 * A client that writes its ring by hand: descriptors pointing outside its
 * memory, garbage fields, a flood of errors, a rewritten ring header and an
 * impossible producer index. Each bad descriptor is retired with an error
 * record {cookie, -EINVAL} and completion moves past it; good descriptors
 * between them still land; nothing outside the client's regions is written;
 * the daemon never falls over; another client never notices.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define LEN   (64u << 10)
#define CHUNK 256u
#define FLOOD (3 * DMAD_PROTO_ERR_ENTRIES)

static uint8_t *mem_a, *mem_b;
static int fd_a, fd_b;
static uint32_t id_a, id_b;
static unsigned int good; /* good copies so far: chunk i of A to chunk i of B */

struct bad {
	const char *what;
	struct dmad_proto_desc d;
};

static struct dmad_proto_desc good_copy(void)
{
	struct dmad_proto_desc d = {.op = DMAD_PROTO_OP_COPY,
				    .src_region = (uint16_t)id_a,
				    .dst_region = (uint16_t)id_b,
				    .src_off = (uint64_t)good * CHUNK,
				    .dst_off = (uint64_t)good * CHUNK,
				    .len = CHUNK};

	good++;
	return d;
}

/* B holds A's pattern in the first @good chunks and its own elsewhere. */
static bool memory_intact(void)
{
	size_t n = (size_t)good * CHUNK;

	return pat_check(mem_b, n, 0, 7, true) == n &&
	       pat_check(mem_b + n, LEN - n, n, 7, false) == LEN - n &&
	       pat_check(mem_a, LEN, 0, 7, true) == LEN;
}

static void check_bad_descs(struct raw_chan *ch)
{
	const struct dmad_proto_desc copy = {.op = DMAD_PROTO_OP_COPY,
					     .src_region = (uint16_t)id_a,
					     .dst_region = (uint16_t)id_b,
					     .len = 64};
	uint16_t nonzero = (uint16_t)(id_a ? id_a : id_b);
	struct bad bad[] = {
		{"unknown dst region id", copy},
		{"region id 65535", copy},
		{"dst offset at the region end", copy},
		{"dst ending one byte past the region end", copy},
		{"src offset past the region end", copy},
		{"len 4 GiB-1", copy},
		{"dst off+len overflowing 64 bits", copy},
		{"len 0", copy},
		{"unknown op", copy},
		{"unknown flag", copy},
		{"rsvd != 0", copy},
		{"src and dst overlapping in one region", copy},
		{"fill with src_region != 0", copy},
	};
	const unsigned int nbad = sizeof(bad) / sizeof(bad[0]);
	uint32_t cookie[sizeof(bad) / sizeof(bad[0])], last = 0, err0;
	unsigned int i;
	bool done;

	bad[0].d.dst_region = (uint16_t)((id_a > id_b ? id_a : id_b) + 1);
	bad[1].d.src_region = UINT16_MAX;
	bad[2].d.dst_off = LEN;
	bad[3].d.dst_off = LEN - bad[3].d.len + 1;
	bad[4].d.src_off = LEN + 4096;
	bad[5].d.len = UINT32_MAX;
	bad[6].d.dst_off = UINT64_MAX - 1;
	bad[7].d.len = 0;
	bad[8].d.op = 7;
	bad[9].d.flags = 0x80;
	bad[10].d.rsvd = 1;
	bad[11].d.src_region = bad[11].d.dst_region;
	bad[11].d.dst_off = 32;
	bad[12].d.op = DMAD_PROTO_OP_FILL;
	bad[12].d.src_region = nonzero;

	err0 = __atomic_load_n(&ch->ring->err_tail, __ATOMIC_ACQUIRE);
	for (i = 0; i < nbad; i++) {
		raw_chan_push(ch, good_copy());
		cookie[i] = raw_chan_push(ch, bad[i].d);
	}
	last = raw_chan_push(ch, good_copy());
	raw_chan_issue(ch);
	done = raw_chan_wait(ch, last, COPIER_WAIT_MS);
	if (!ok(done,
		"completion reaches the good descriptor after %u bad ones (completed %u, want %u)",
		nbad, ch->ring->completed, last))
		return;
	ok(ch->ring->err_tail - err0 == nbad, "one error record per bad descriptor (%u, want %u)",
	   ch->ring->err_tail - err0, nbad);
	for (i = 0; i < nbad && i < DMAD_PROTO_ERR_ENTRIES; i++) {
		const struct dmad_proto_err *e = &ch->err[(err0 + i) % DMAD_PROTO_ERR_ENTRIES];

		ok(e->cookie == cookie[i] && e->status == -EINVAL,
		   "%s: error record {cookie %u, status %d}, want {%u, %d}", bad[i].what, e->cookie,
		   e->status, cookie[i], -EINVAL);
	}
	ok(memory_intact(), "the good copies between them landed, nothing else was written");
}

/* More errors than the error ring holds: it wraps, completion still moves. */
static void check_flood(struct raw_chan *ch)
{
	struct dmad_proto_desc d = good_copy();
	uint32_t err0 = __atomic_load_n(&ch->ring->err_tail, __ATOMIC_ACQUIRE), last = 0, nerr;
	unsigned int wrong = 0;
	bool done;

	good--;
	d.dst_off = LEN;
	for (unsigned int i = 0; i < FLOOD; i++)
		last = raw_chan_push(ch, d);
	raw_chan_issue(ch);
	done = raw_chan_wait(ch, last, COPIER_WAIT_MS);
	nerr = ch->ring->err_tail - err0;
	ok(done && nerr == FLOOD,
	   "%u bad descriptors in a row all retired with errors (%u records)", FLOOD, nerr);
	/* The newest ERR_ENTRIES records are the last cookies, in order. */
	for (uint32_t i = 0; i < DMAD_PROTO_ERR_ENTRIES; i++) {
		uint32_t idx = err0 + FLOOD - DMAD_PROTO_ERR_ENTRIES + i;
		const struct dmad_proto_err *e = &ch->err[idx % DMAD_PROTO_ERR_ENTRIES];

		if (e->cookie != last - (DMAD_PROTO_ERR_ENTRIES - 1) + i || e->status != -EINVAL)
			wrong++;
	}
	ok(wrong == 0, "the error ring holds the newest %u records (%u wrong)",
	   DMAD_PROTO_ERR_ENTRIES, wrong);
	last = raw_chan_push(ch, good_copy());
	raw_chan_issue(ch);
	ok(raw_chan_wait(ch, last, COPIER_WAIT_MS) && memory_intact(),
	   "a good copy after the flood lands");
}

/*
 * The header's geometry is the client's to scribble on: the daemon must
 * keep using what it set up, not what the shared page says now.
 */
static void check_header(struct raw_chan *ch)
{
	struct dmad_proto_desc d = good_copy();
	uint32_t bad, last, err0 = __atomic_load_n(&ch->ring->err_tail, __ATOMIC_ACQUIRE);

	good--;
	ch->ring->sq_offset = 0xfffff000u;
	ch->ring->err_offset = 0x7ffff000u;
	ch->ring->sq_entries = UINT32_MAX;
	ch->ring->err_entries = 3;
	ch->ring->size = 0;
	d.len = 0;
	bad = raw_chan_push(ch, d);
	last = raw_chan_push(ch, good_copy());
	raw_chan_issue(ch);
	ok(raw_chan_wait(ch, last, COPIER_WAIT_MS) && memory_intact(),
	   "with the ring header rewritten, a bad then a good descriptor complete");
	ok(ch->ring->err_tail - err0 == 1 && ch->err[err0 % DMAD_PROTO_ERR_ENTRIES].cookie == bad,
	   "the error record lands where the daemon set up the error ring");
}

/* Connect by hand, register both memfds, take a channel. */
static int attach(const char *socket, int *ret_fd, struct raw_chan *ret_ch)
{
	int fd = raw_connect(socket), r;

	if (fd < 0)
		return fd;
	r = raw_hello(fd, "hostile");
	if (r == 0)
		r = raw_region_reg(fd, fd_a, LEN, &id_a);
	if (r == 0)
		r = raw_region_reg(fd, fd_b, LEN, &id_b);
	if (r == 0)
		r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, ret_ch);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int main(void)
{
	struct harness_dmad *d;
	struct raw_chan ch, ch2;
	struct bystander b;
	uint32_t last;
	int fd, r;

	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	bystander_start(&b, d->socket);

	fd_a = raw_memfd(LEN, true, (void **)&mem_a);
	fd_b = raw_memfd(LEN, true, (void **)&mem_b);
	pat_fill(mem_a, LEN, 0, 7, true);
	pat_fill(mem_b, LEN, 0, 7, false);
	r = attach(d->socket, &fd, &ch);
	if (!ok(r == 0, "two regions (ids %u, %u) and a channel, by hand (%d)", id_a, id_b, r))
		return tap_done();
	ok(ch.ring->magic == DMAD_PROTO_RING_MAGIC && ch.ring->version == DMAD_PROTO_RING_VERSION &&
		   ch.ring->sq_entries == DMAD_PROTO_SQ_ENTRIES &&
		   ch.ring->err_entries == DMAD_PROTO_ERR_ENTRIES &&
		   ch.ring_size >=
			   dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES),
	   "ring header as the protocol says");

	check_bad_descs(&ch);
	check_flood(&ch);

	/*
	 * A producer index no honest client can reach: that ring (and maybe
	 * that client) is done for, the daemon is not.
	 */
	ch.tail += 100000;
	raw_chan_issue(&ch);
	usleep(200000);
	ok(harness_dmad_alive(d), "dmad survives an impossible sq_tail");
	r = raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch2);
	ok(r == 0 || r == RAW_CLOSED, "that client is disconnected or still served (%d)", r);
	raw_chan_unmap(&ch);
	if (r == RAW_CLOSED) {
		close(fd);
		r = attach(d->socket, &fd, &ch2);
		ok(r == 0, "a new connection gets a channel (%d)", r);
	}
	if (r == 0) {
		raw_chan_push(&ch2, good_copy());
		last = raw_chan_push(&ch2, good_copy());
		raw_chan_issue(&ch2);
		ok(raw_chan_wait(&ch2, last, COPIER_WAIT_MS) && memory_intact(),
		   "copies on a fresh channel land");
		check_header(&ch2);
		ok(harness_dmad_alive(d), "dmad survives a client rewriting its ring header");
		raw_chan_unmap(&ch2);
	}
	close(fd);
	close(fd_a);
	close(fd_b);

	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	ok(harness_dmad_alive(d), "dmad still running");
	harness_dmad_finish(d);
	return tap_done();
}
