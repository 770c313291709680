/* SPDX-License-Identifier: MIT */
/*
 * A region on hugetlbfs (MFD_HUGETLB), sealed against shrinking as the
 * protocol asks, is refused: its owner can still punch a hole in it, which
 * only the host's shared hugepage pool can refill. With the pool taken (by
 * the same client, or by anyone), dmad's copy into the hole was SIGBUS, and
 * DPDK's SIGBUS handler then waited for the faulting lcore itself: dmad
 * hung, every client's copies with it, and only SIGKILL ended it. Where the
 * host has free hugepages and a dmad took the region anyway, the test goes
 * on to do just that, so that the harm shows; the refusal itself needs no
 * pool. Another client never notices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

/* /proc/meminfo's @key, in its units; 0 when absent. */
static unsigned long meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long v = 0;
	size_t n = strlen(key);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			sscanf(line + n + 1, "%lu", &v);
	if (f)
		fclose(f);
	return v;
}

/*
 * What the refusal prevents: fault in the first huge page and punch it out
 * (its reservation goes back to the pool), take every free huge page, then
 * have dmad copy into the hole. Returns whether the copy completed.
 */
static bool copy_into_hole(int fd, int hfd, size_t hp)
{
	struct raw_chan ch;
	uint8_t *src, *m;
	uint32_t src_id, cookie;
	int sfd = raw_memfd(4096, true, (void **)&src), eat;
	size_t eaten = 0;
	bool done;

	m = mmap(NULL, hp, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
	if (m == MAP_FAILED)
		tap_bail("mmap hugetlb memfd: %s", strerror(errno));
	memset(m, 1, hp);
	munmap(m, hp);
	if (fallocate(hfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)hp) < 0)
		tap_bail("punch a hole: %s", strerror(errno));
	eat = memfd_create("dmad-test-pool", MFD_HUGETLB | MFD_CLOEXEC);
	while (eat >= 0 && ftruncate(eat, (off_t)((eaten + 1) * hp)) == 0) {
		m = mmap(NULL, hp, PROT_READ | PROT_WRITE, MAP_SHARED, eat, (off_t)(eaten * hp));
		if (m == MAP_FAILED)
			break;
		memset(m, 1, hp);
		eaten++;
	}
	tap_diag("took %zu free huge pages", eaten);
	if (raw_region_reg(fd, sfd, 4096, &src_id) != 0 ||
	    raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch))
		tap_bail("a source region and a channel");
	cookie = raw_chan_push(&ch, (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
							     .src_region = (uint16_t)src_id,
							     .dst_region = 0,
							     .len = 4096});
	raw_chan_issue(&ch);
	done = raw_chan_wait(&ch, cookie, COPIER_WAIT_MS);
	raw_chan_unmap(&ch);
	/* The pool's pages go back with the test's exit: munmap is not needed. */
	return done;
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	size_t hp = meminfo("Hugepagesize") << 10;
	uint32_t id = UINT32_MAX;
	int fd, hfd, r;

	harness_watchdog(150);
	hfd = memfd_create("dmad-test-huge", MFD_HUGETLB | MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (hfd < 0 || !hp)
		tap_skip_all("no hugetlbfs memfd here: %s", strerror(errno));
	if (ftruncate(hfd, (off_t)(2 * hp)) < 0 || fcntl(hfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		tap_bail("size and seal the hugetlb memfd: %s", strerror(errno));

	d = harness_dmad_start("--engines", "cpu", NULL);
	bystander_start(&b, d->socket);
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, "hugetlb") != 0)
		tap_bail("connect and HELLO");
	r = raw_region_reg(fd, hfd, 2 * hp, &id);
	ok(r == -EINVAL, "a sealed hugetlbfs memfd is refused with -EINVAL (%d)", r);
	if (r == 0 && id == 0)
		ok(copy_into_hole(fd, hfd, hp), "a copy into a punched hole of it completed");
	ok(harness_dmad_alive(d), "dmad lives");
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
