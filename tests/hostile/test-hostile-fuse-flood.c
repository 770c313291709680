/* SPDX-License-Identifier: MIT */
/*
 * A FUSE file whose FLUSH its server holds (test-hostile-fuse-fd.c) keeps
 * dmad's closer thread waiting; then the same client sends the file again
 * and again, eight fds a message, which dmad refuses and hands to the
 * closer too. Every fd waiting there is one of dmad's: a client that
 * could make them pile up would take dmad to RLIMIT_NOFILE, where no
 * client is accepted and no region received. A new client must still get
 * in and register a region afterwards.
 *
 * Unfixed, dmad went from 28 fds to its RLIMIT_NOFILE (20001) and a new
 * client's HELLO got no answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "fuseheld.h"
#include "harness.h"
#include "procstat.h"
#include "rawproto.h"

#define FLOOD 3000 /* messages: 24000 fds, past dmad's RLIMIT_NOFILE here */

static int dmad_fds(pid_t pid)
{
	struct procstat st;

	return procstat_read(pid, &st) < 0 ? -1 : st.fds;
}

int main(void)
{
	struct dmad_proto_region_reg_req req = {.len = 4096};
	struct harness_dmad *d;
	struct raw_msg rep;
	char path[96];
	uint32_t id = UINT32_MAX;
	int fd, ffd, probe, mfd, r = 0, fds[8];
	unsigned sent = 0;
	int before, after;
	void *map;

	harness_watchdog(240);
	fuseheld_mount();
	d = harness_dmad_start("--engines", "cpu", NULL);
	fuseheld_hold_from(d->pid);

	snprintf(path, sizeof(path), "%s/f", fuseheld_dir());
	ffd = open(path, O_RDWR | O_CLOEXEC);
	if (ffd < 0)
		tap_bail("open %s: %s", path, strerror(errno));
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, "fuse-flood") != 0)
		tap_bail("connect and HELLO");
	r = raw_region_reg(fd, ffd, 4096, &id);
	ok(r == -EINVAL, "a file on FUSE is refused as a region with -EINVAL (%d)", r);
	for (int i = 0; i < 1000 && !fuseheld_count(); i++)
		usleep(10000);
	ok(fuseheld_count() > 0,
	   "dmad's close of the file reached the FUSE server, which holds it");

	before = dmad_fds(d->pid);
	for (unsigned i = 0; i < 8; i++)
		fds[i] = ffd;
	for (r = 0; sent < FLOOD && raw_is_status(r) && r != RAW_CLOSED; sent++)
		r = raw_request(fd, DMAD_PROTO_REGION_REG, &req, sizeof(req), fds, 8, &rep);
	after = dmad_fds(d->pid);
	tap_diag("%u messages of 8 fds sent (last answer %d)", sent, r);
	ok(before >= 0 && after >= 0 && after < before + 64,
	   "dmad's fds did not pile up: %d before, %d after", before, after);

	probe = raw_connect(d->socket);
	r = probe < 0 ? probe : raw_hello(probe, "probe");
	ok(r == 0, "a new client's HELLO is answered (%d)", r);
	mfd = raw_memfd(4096, true, &map);
	r = r == 0 ? raw_region_reg(probe, mfd, 4096, &id) : r;
	ok(r == 0, "and it registers a region (%d)", r);
	ok(harness_dmad_alive(d), "dmad lives");

	fuseheld_release();
	if (probe >= 0)
		close(probe);
	close(mfd);
	close(fd);
	close(ffd);
	harness_dmad_finish(d);
	return tap_done();
}
