/* SPDX-License-Identifier: MIT */
/*
 * Changing dmad's log level is an admin request: a user who may reach the
 * socket but is neither root, dmad's own user nor in group dma-admin gets
 * -EACCES, and dmactl says so with exit status 4. Runs as root, to be
 * another user in a child. (test-hostile-tiers covers the rest of it.)
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "rawproto.h"

#define NOBODY 65534

/* Fork a child that becomes nobody; returns 0 in the child. */
static pid_t as_nobody(void)
{
	pid_t pid = harness_fork();

	if (pid == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
		_exit(100);
	return pid;
}

int main(void)
{
	struct dmad_proto_log_level_req req = {.level = 7};
	struct harness_dmad *d;
	pid_t pid;

	if (geteuid() != 0)
		tap_skip_all("needs root, to act as another user");
	harness_watchdog(60);
	d = harness_dmad_start("--engines", "0", NULL);
	/* Let anyone reach the socket: dmad's own check is what is tested. */
	if (chmod(d->dir, 0711) < 0 || chmod(d->socket, 0666) < 0)
		tap_bail("chmod: %m");

	pid = as_nobody();
	if (pid == 0) {
		int fd = raw_connect(d->socket), r = -1;

		if (fd >= 0 && raw_hello(fd, "not-admin") == 0)
			r = raw_request(fd, DMAD_PROTO_LOG_LEVEL, &req, sizeof(req), NULL, 0, NULL);
		_exit(r == -EACCES ? 0 : 1);
	}
	ok(harness_wait_child(pid, 10000, "raw LOG_LEVEL as nobody"),
	   "LOG_LEVEL from a user who is not an admin: -EACCES");

	pid = as_nobody();
	if (pid == 0) {
		char *argv[] = {(char *)harness_env("DMACTL_BIN"),
				"--socket",
				d->socket,
				"log-level",
				"debug",
				NULL};
		char out[256];

		_exit(harness_run(argv, out, sizeof(out), 10000) == 4 ? 0 : 1);
	}
	ok(harness_wait_child(pid, 15000, "dmactl log-level as nobody"),
	   "dmactl log-level as that user: exit status 4");
	harness_dmad_finish(d);
	return tap_done();
}
