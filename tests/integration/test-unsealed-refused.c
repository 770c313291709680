/* SPDX-License-Identifier: MIT */
/*
 * A region must be a memfd sealed against shrinking: a shrink under the
 * daemon's live mapping would be SIGBUS in the daemon. Refused through the
 * library and, more to the point, by the daemon itself when a client skips
 * the library; a sealed memfd is accepted and copies work on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define LEN (64u << 10)

static void check_library(const char *socket)
{
	struct dmac_client *c = NULL;
	struct dmac_chan *ch = NULL;
	void *unsealed, *sealed, *unsealable, *other;
	int fd_unsealed, fd_sealed, fd_unsealable, pipefd[2], r;
	dmac_cookie_t ck;

	r = dmac_connect(socket, "unsealed", &c);
	if (!ok(r == 0, "connect (%d)", r))
		return;
	fd_unsealed = raw_memfd(LEN, false, &unsealed);
	fd_sealed = raw_memfd(LEN, true, &sealed);
	fd_unsealable = memfd_create("no-sealing", MFD_CLOEXEC);
	if (fd_unsealable < 0 || ftruncate(fd_unsealable, LEN) < 0)
		tap_bail("memfd: %s", strerror(errno));
	unsealable = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd_unsealable, 0);
	if (unsealable == MAP_FAILED || pipe2(pipefd, O_CLOEXEC) < 0)
		tap_bail("setup: %s", strerror(errno));

	r = dmac_region_register(c, fd_unsealed, unsealed, LEN);
	ok(r == -EINVAL, "unsealed memfd refused with -EINVAL (%d)", r);
	r = dmac_region_register(c, fd_unsealable, unsealable, LEN);
	ok(r == -EINVAL, "memfd without MFD_ALLOW_SEALING refused with -EINVAL (%d)", r);
	r = dmac_region_register(c, pipefd[0], unsealed, LEN);
	ok(r == -EINVAL, "a pipe instead of a memfd refused with -EINVAL (%d)", r);
	r = dmac_region_register(c, fd_sealed, sealed, 2 * LEN);
	ok(r == -EINVAL, "sealed memfd shorter than the length asked refused with -EINVAL (%d)", r);
	r = dmac_region_register(c, fd_sealed, sealed, LEN);
	ok(r == 0, "sealed memfd accepted (%d)", r);

	other = dmac_region_alloc(c, LEN);
	r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(other && r == 0, "a second region and a channel (%d)", r))
		return;
	dmac_chan_set_copybreak(ch, 0);
	pat_fill(other, LEN, 0, 3, true);
	pat_fill(sealed, LEN, 0, 3, false);
	ck = dmac_memcpy(ch, sealed, other, LEN, 0);
	dmac_issue_pending(ch);
	ok(ck >= 0 && dmac_wait(ch, ck, COPIER_WAIT_MS) == 0 &&
		   pat_check(sealed, LEN, 0, 3, true) == LEN,
	   "a copy into the registered memfd lands (cookie %d)", ck);
	ck = dmac_memcpy(ch, other, unsealed, 16, 0);
	ok(ck == -EINVAL, "the refused memfd cannot be copied from (%d)", ck);

	dmac_chan_put(ch);
	dmac_disconnect(c);
	munmap(unsealed, LEN);
	munmap(unsealable, LEN);
	munmap(sealed, LEN);
	close(fd_unsealed);
	close(fd_sealed);
	close(fd_unsealable);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* The daemon's own check, with no library in the way. */
static void check_daemon(const char *socket)
{
	void *m1, *m2;
	int fd = raw_connect(socket), unsealed, sealed, r;
	uint32_t id = UINT32_MAX;

	if (!ok(fd >= 0 && raw_hello(fd, "raw-unsealed") == 0, "raw connection and HELLO"))
		return;
	unsealed = raw_memfd(LEN, false, &m1);
	sealed = raw_memfd(LEN, true, &m2);
	r = raw_region_reg(fd, unsealed, LEN, &id);
	ok(r == -EINVAL, "daemon refuses an unsealed memfd: -EINVAL (%d)", r);
	r = raw_region_reg(fd, sealed, 2 * LEN, &id);
	ok(r == -EINVAL, "daemon refuses a length past the memfd's end: -EINVAL (%d)", r);
	r = raw_region_reg(fd, sealed, 0, &id);
	ok(r == -EINVAL, "daemon refuses length 0: -EINVAL (%d)", r);
	/* F_SEAL_SHRINK must stop the shrink that would SIGBUS the daemon. */
	ok(ftruncate(sealed, LEN / 2) < 0 && errno == EPERM, "the seal forbids shrinking");
	r = raw_region_reg(fd, sealed, LEN, &id);
	ok(r == 0, "daemon accepts the sealed memfd (%d, region id %u)", r, id);
	munmap(m1, LEN);
	munmap(m2, LEN);
	close(unsealed);
	close(sealed);
	close(fd);
}

int main(void)
{
	struct harness_dmad *d;

	harness_watchdog(60);
	d = harness_dmad_start(NULL);
	check_library(d->socket);
	check_daemon(d->socket);
	ok(harness_dmad_alive(d), "dmad still running");
	harness_dmad_finish(d);
	return tap_done();
}
