/* SPDX-License-Identifier: MIT */
/*
 * A file on a FUSE mount the client serves itself (any user may, through
 * fusermount), sent as a region's fd. dmad refuses it, and closes its copy:
 * close() asks the file system's server to FLUSH, and waits for the answer
 * uninterruptibly (not even SIGKILL ends the wait). A server that never
 * answers held dmad's control thread there: no new client was answered, no
 * request of any client, until the server let go. Here the server holds
 * every FLUSH that comes from dmad until the checks are done, and a new
 * client's HELLO must be answered meanwhile; another client copies on.
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
#include "rawproto.h"

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	char path[96];
	uint32_t id = UINT32_MAX;
	int fd, ffd, probe, r;

	harness_watchdog(120);
	fuseheld_mount();
	d = harness_dmad_start("--engines", "cpu", NULL);
	fuseheld_hold_from(d->pid);
	bystander_start(&b, d->socket);

	snprintf(path, sizeof(path), "%s/f", fuseheld_dir());
	ffd = open(path, O_RDWR | O_CLOEXEC);
	if (ffd < 0)
		tap_bail("open %s: %s", path, strerror(errno));
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, "fuse-fd") != 0)
		tap_bail("connect and HELLO");
	r = raw_region_reg(fd, ffd, 4096, &id);
	ok(r == -EINVAL, "a file on FUSE is refused as a region with -EINVAL (%d)", r);

	/* dmad closes it right after the answer: its FLUSH is held from then on. */
	for (int i = 0; i < 1000 && !fuseheld_count(); i++)
		usleep(10000);
	ok(fuseheld_count() > 0,
	   "dmad's close of the file reached the FUSE server, which holds it");
	probe = raw_connect(d->socket);
	r = probe < 0 ? probe : raw_hello(probe, "probe");
	ok(r == 0, "meanwhile a new client's HELLO is answered (%d)", r);
	if (probe >= 0)
		close(probe);
	ok(harness_dmad_alive(d), "dmad lives");

	/* The client whose fd waits is not read meanwhile (closer.h). */
	fuseheld_release();
	r = raw_region_reg(fd, ffd, 4096, &id);
	ok(r == -EINVAL, "once the FLUSH is answered, the same client's next request too (%d)", r);
	close(fd);
	close(ffd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
