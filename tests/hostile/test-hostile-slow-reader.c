/* SPDX-License-Identifier: MIT */
/*
 * A client that never reads its socket while the daemon has many events to
 * send it: all 64 of its channels move between the only engine and the
 * CPU, again and again, more events than its socket holds. The daemon must
 * never wait for it (every removal and addition returns promptly), its
 * channels keep copying correctly wherever they went, and, since events are
 * advice a client may ignore, its next request is still answered.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define CYCLES	     4
#define CMD_MAX_MS   10000
#define NCHAN	     64
#define LEN	     (64u << 10)
#define PIECE	     (LEN / NCHAN)
#define COPY_WAIT_MS 5000

static int dmactl(const char *socket, const char *cmd, const char *arg, int64_t *ret_ms)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)cmd,
			(char *)arg,
			NULL};
	static char out[4096];
	int64_t t0 = harness_now_ms();
	int r = harness_run(argv, out, sizeof(out), CMD_MAX_MS);

	*ret_ms = harness_now_ms() - t0;
	return r;
}

/* One copy on every channel, region 0 to region 1, each verified. */
static bool all_copy(struct raw_chan *chans, const uint8_t *dst)
{
	for (unsigned i = 0; i < NCHAN; i++) {
		uint32_t c = raw_chan_push(
			&chans[i], raw_copy_01((uint64_t)i * PIECE, (uint64_t)i * PIECE, PIECE));

		raw_chan_issue(&chans[i]);
		if (!raw_chan_wait(&chans[i], c, COPY_WAIT_MS) ||
		    pat_check(dst + i * PIECE, PIECE, i * PIECE, 3, true) != PIECE) {
			tap_diag("channel %u: cookie %u, completed %u", i, c,
				 chans[i].ring->completed);
			return false;
		}
	}
	return true;
}

/*
 * Ask for STATUS now, with the socket as full as the daemon left it, then
 * read up to the reply (a few KiB with 64 channels: larger than an event,
 * so it cannot slip into room an event left). Returns its status or RAW_*;
 * the events read on the way are counted in *ret_events.
 */
static int status_through_backlog(int fd, unsigned *ret_events)
{
	const struct dmad_proto_hdr req = {.magic = DMAD_PROTO_MAGIC,
					   .major = DMAD_PROTO_VERSION_MAJOR,
					   .minor = DMAD_PROTO_VERSION_MINOR,
					   .type = DMAD_PROTO_STATUS,
					   .seq = 0x5eed};
	static struct raw_msg m;
	int r = raw_send(fd, &req, sizeof(req), NULL, 0);

	*ret_events = 0;
	while (r == 0) {
		ssize_t n = recv(fd, &m.hdr, sizeof(m.hdr) + sizeof(m.body), 0);

		if (n <= 0)
			return RAW_CLOSED;
		if (m.hdr.type == DMAD_PROTO_EVENT && !(m.hdr.flags & DMAD_PROTO_F_REPLY))
			(*ret_events)++;
		else if (m.hdr.seq == req.seq)
			return m.hdr.status;
	}
	return r;
}

int main(void)
{
	static struct raw_chan chans[NCHAN];
	struct harness_dmad *d;
	struct bystander b;
	int64_t worst = 0, ms;
	unsigned n = 0, failed = 0, queued;
	uint8_t *src, *dst;
	uint32_t id_src, id_dst;
	int fd, fd_src, fd_dst, r;

	harness_watchdog(150);
	d = harness_dmad_start("--engines", "1", NULL);
	bystander_start(&b, d->socket);
	fd_src = raw_memfd(LEN, true, (void **)&src);
	fd_dst = raw_memfd(LEN, true, (void **)&dst);
	pat_fill(src, LEN, 0, 3, true);
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, "never-reads") != 0 ||
	    raw_region_reg(fd, fd_src, LEN, &id_src) != 0 ||
	    raw_region_reg(fd, fd_dst, LEN, &id_dst) != 0 || id_src != 0 || id_dst != 1)
		tap_bail("connect, HELLO and two regions failed");
	for (; n < NCHAN && raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &chans[n]) == 0; n++)
		;
	if (!ok(n == NCHAN, "%u channels on the one engine (%u)", NCHAN, n))
		return tap_done();

	/*
	 * Each cycle moves every channel twice, to the CPU and onto a new
	 * engine: 2 x 64 events that nobody reads. (Each engine gets a new name.)
	 */
	for (unsigned i = 0; i < CYCLES; i++) {
		char old[32], new[32];

		snprintf(old, sizeof(old), "dma_skeleton%u", i);
		snprintf(new, sizeof(new), "dma_skeleton%u", i + 1);
		failed += dmactl(d->socket, "remove", old, &ms) != 0;
		worst = ms > worst ? ms : worst;
		failed += dmactl(d->socket, "add", new, &ms) != 0;
		worst = ms > worst ? ms : worst;
	}
	ok(failed == 0 && worst < CMD_MAX_MS,
	   "%d removals and additions moving %u channels each, none refused (%u), the slowest in "
	   "%lld ms",
	   CYCLES, n, failed, (long long)worst);
	/* Events are advice: ignoring them must not cost the connection. */
	r = status_through_backlog(fd, &queued);
	ok(r == 0,
	   "a client that ignored the events of %u moves (%u still queued) gets its next request "
	   "answered (%d)",
	   2 * CYCLES * n, queued, r);
	ok(all_copy(chans, dst), "every channel still copies correctly, wherever it went");
	for (unsigned i = 0; i < n; i++)
		raw_chan_unmap(&chans[i]);
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
