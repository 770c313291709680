/* SPDX-License-Identifier: MIT */
/*
 * Per-client quotas: regions, bytes mapped and channels are bounded at the
 * limits HELLO announces. The request past a limit gets -EDQUOT (through
 * the library: NULL with errno EDQUOT, or -EDQUOT), never an OOM; freeing
 * makes room again; the daemon's memory stays put (64 GiB "mapped" by a
 * sparse memfd costs it no RAM); another client copies on undisturbed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "procstat.h"
#include "rawproto.h"

#define MAX_TESTED_REGIONS  4096u /* a daemon allowing more is not walked to its limit */
#define MAX_TESTED_CHANNELS 1024u
#define RSS_SLACK_KIB	    (16 << 10)

static struct dmad_proto_hello_rep limits;

static void read_limits(const char *socket)
{
	struct dmad_proto_hello_req req = {"quota-limits"};
	static struct raw_msg m;
	int fd = raw_connect(socket), r;

	if (fd < 0)
		tap_bail("connect: %s", strerror(-fd));
	r = raw_request(fd, DMAD_PROTO_HELLO, &req, sizeof(req), NULL, 0, &m);
	if (r != 0 || m.body_len < sizeof(limits))
		tap_bail("HELLO: %d", r);
	memcpy(&limits, m.body, sizeof(limits));
	close(fd);
	tap_diag("limits per client: %u regions, %u channels, %llu bytes mapped",
		 limits.max_regions, limits.max_channels,
		 (unsigned long long)limits.max_bytes_mapped);
}

static void check_regions(const char *socket)
{
	static void *regions[MAX_TESTED_REGIONS + 1];
	struct dmac_client *c;
	unsigned n = 0, max = limits.max_regions;
	void *extra;
	int r, err = 0;

	if (!ok(max <= MAX_TESTED_REGIONS, "region quota %u: at most %u, which this test walks",
		max, MAX_TESTED_REGIONS))
		return;
	r = dmac_connect(socket, "quota-regions", &c);
	if (!ok(r == 0, "connect (%d)", r))
		return;
	for (n = 0; n <= max; n++) {
		regions[n] = dmac_region_alloc(c, 4096);
		if (!regions[n]) {
			err = errno;
			break;
		}
	}
	ok(n == max && err == EDQUOT, "%u regions allocated, the next one: %s (want %u, EDQUOT)", n,
	   strerror(err), max);
	if (n) {
		r = dmac_region_free(c, regions[n - 1]);
		extra = dmac_region_alloc(c, 4096);
		ok(r == 0 && extra, "after freeing one, one more can be allocated (%d, %s)", r,
		   extra ? "ok" : strerror(errno));
	}
	dmac_disconnect(c);

	/* Quotas are per client: the next one starts from nothing. */
	r = dmac_connect(socket, "quota-regions-2", &c);
	for (n = 0; r == 0 && n < max && dmac_region_alloc(c, 4096); n++)
		;
	ok(r == 0 && n == max, "a new client gets all %u regions again (%u)", max, n);
	if (r == 0)
		dmac_disconnect(c);
}

static void check_channels(const char *socket)
{
	static struct dmac_chan *chans[MAX_TESTED_CHANNELS + 1];
	struct dmac_client *c;
	unsigned n, max = limits.max_channels;
	int r = 0;

	if (!ok(max <= MAX_TESTED_CHANNELS, "channel quota %u: at most %u, which this test walks",
		max, MAX_TESTED_CHANNELS))
		return;
	if (!ok(dmac_connect(socket, "quota-chans", &c) == 0, "connect"))
		return;
	for (n = 0; n <= max; n++) {
		r = dmac_chan_get(c, DMAC_CAP_COPY, &chans[n]);
		if (r < 0)
			break;
	}
	ok(n == max && r == -EDQUOT, "%u channels taken, the next one: %d (want %u, %d)", n, r, max,
	   -EDQUOT);
	if (n) {
		dmac_chan_put(chans[n - 1]);
		r = dmac_chan_get(c, DMAC_CAP_COPY, &chans[n - 1]);
		ok(r == 0, "after putting one, one more can be taken (%d)", r);
	}
	dmac_disconnect(c);
}

/* A sparse memfd: as large as asked, and no RAM until touched. */
static int sparse_memfd(uint64_t len)
{
	int fd = memfd_create("quota", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		tap_bail("sparse memfd of %llu bytes: %s", (unsigned long long)len,
			 strerror(errno));
	return fd;
}

static void check_bytes(const char *socket, pid_t dmad_pid)
{
	uint64_t max = limits.max_bytes_mapped, half = max / 2;
	struct procstat before, after;
	int fd = raw_connect(socket), memfd, r1, r2, r3, r4;
	uint32_t id;

	if (!ok(fd >= 0 && raw_hello(fd, "quota-bytes") == 0, "raw connection and HELLO"))
		return;
	procstat_read(dmad_pid, &before);
	memfd = sparse_memfd(max + 4096);
	r1 = raw_region_reg(fd, memfd, max + 4096, &id);
	ok(r1 == -EDQUOT, "one region of the quota plus a page: %d (want %d)", r1, -EDQUOT);
	r2 = raw_region_reg(fd, memfd, half, &id);
	r3 = raw_region_reg(fd, memfd, max - half, &id);
	ok(r2 == 0 && r3 == 0, "two regions filling the %llu-byte quota exactly (%d, %d)",
	   (unsigned long long)max, r2, r3);
	r4 = raw_region_reg(fd, memfd, 4096, &id);
	ok(r4 == -EDQUOT, "one page more: %d (want %d)", r4, -EDQUOT);
	r4 = raw_region_reg(fd, memfd, UINT64_MAX, &id);
	ok(r4 == -EDQUOT || r4 == -EINVAL, "a length of 2^64-1: %d", r4);
	procstat_read(dmad_pid, &after);
	ok(after.rss_kib - before.rss_kib < RSS_SLACK_KIB,
	   "the daemon's RSS stayed put: %ld -> %ld KiB", before.rss_kib, after.rss_kib);
	close(memfd);
	close(fd);
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	int fd;

	harness_watchdog(150);
	d = harness_dmad_start(NULL);
	bystander_start(&b, d->socket);
	read_limits(d->socket);
	check_regions(d->socket);
	check_channels(d->socket);
	check_bytes(d->socket, d->pid);

	fd = raw_connect(d->socket);
	ok(fd >= 0 && raw_hello(fd, "after") == 0, "a new client is served after all of it");
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
