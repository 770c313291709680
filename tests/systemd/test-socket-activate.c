/* SPDX-License-Identifier: MIT */
/*
 * Socket activation as systemd does it, with systemd-socket-activate: the
 * socket exists before dmad does, the first client's connection starts
 * dmad, which takes the socket from LISTEN_FDS instead of binding its own
 * (--socket names another path, which must never appear), serves clients
 * on it, and leaves it in place when it stops, since it is not dmad's.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "sdtest.h"

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* What runs as @pid now: after the exec, dmad itself. */
static bool runs_dmad(pid_t pid, const char *dmad)
{
	char link[64], exe[PATH_MAX], want[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0 || !realpath(dmad, want))
		return false;
	exe[n] = '\0';
	return !strcmp(exe, want);
}

int main(void)
{
	const char *activate = getenv("SYSTEMD_SOCKET_ACTIVATE");
	const char *dmad_bin = harness_env("DMAD_BIN");
	char sock[128], own[128], status[4096];
	char *argv[] = {(char *)activate, "--seqpacket", "-l",	      sock, (char *)dmad_bin,
			"--socket",	  own,		 "--engines", "1",  NULL};
	char *dmactl[] = {(char *)harness_env("DMACTL_BIN"), "--socket", sock, "status", NULL};
	struct sdt_proc p;
	struct copier a, b;
	int64_t end;
	int r;

	if (!activate || !*activate)
		tap_skip_all("systemd-socket-activate is not installed (Debian: package systemd)");
	harness_watchdog(60);
	sdt_path(sock, sizeof(sock), "activated.sock");
	sdt_path(own, sizeof(own), "own.sock");
	sdt_start(&p, "socket-activate", argv, NULL);

	end = harness_now_ms() + 10000;
	while (!exists(sock) && harness_now_ms() < end && sdt_alive(&p))
		usleep(10000);
	if (!ok(exists(sock), "systemd-socket-activate listens on %s", sock))
		return tap_done();
	ok(!runs_dmad(p.pid, dmad_bin), "dmad has not started before a client came");

	/* Blocks in HELLO until the daemon it starts answers. */
	r = copier_init(&a, sock, "activated-1", 1 << 20, 1 << 20, 64 << 10, 3);
	if (!ok(r == 0, "the first client's connection starts dmad, which serves it (%d)", r))
		return tap_done();
	ok(runs_dmad(p.pid, dmad_bin), "dmad runs in the process systemd-socket-activate started");
	r = copier_round(&a, 32);
	ok(r == 0, "copies through the passed socket are right (%d)", r);
	r = copier_init(&b, sock, "activated-2", 1 << 20, 1 << 20, 64 << 10, 4);
	ok(r == 0 && copier_round(&b, 32) == 0, "a second client is served too (%d)", r);
	r = harness_run(dmactl, status, sizeof(status), 10000);
	ok(r == 0 && strstr(status, "activated-1") && strstr(status, "activated-2"),
	   "dmactl status on the passed socket lists both clients (exit %d)", r);
	ok(!exists(own), "dmad did not bind --socket %s", own);
	{
		char line[256];

		snprintf(line, sizeof(line), "ready on %s:", sock);
		ok(sdt_log_has(&p, line), "its start-up line names the socket it was given");
	}
	copier_fini(&a);
	copier_fini(&b);

	r = sdt_stop(&p, SIGTERM, 10000);
	ok(r == 0, "dmad exits 0 on SIGTERM (%d)", r);
	ok(exists(sock), "and leaves the socket it was given in place");
	return tap_done();
}
