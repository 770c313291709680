/* SPDX-License-Identifier: MIT */
/*
 * When $JOURNAL_STREAM names its stderr, as systemd sets it, dmad writes to
 * the journal itself: each entry with PRIORITY=, SYSLOG_IDENTIFIER=dmad and,
 * where a message is about one, DMAD_EVENT=, DMAD_DEVICE= and
 * DMAD_CLIENT_PID= (a reload, a log level change, a device removal); so do
 * DPDK's lines, and nothing of its own goes to stderr then. The journal is a stand-in: in a private
 * mount namespace, a tmpfs over /run and a datagram socket where
 * sd_journal_send() writes, /run/systemd/journal/socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "rawproto.h"
#include "sdtest.h"

#define JOURNAL "/run/systemd/journal/socket"

static int jfd;

/* The next entry whose MESSAGE= starts with @text, within @timeout_ms. */
static const char *entry(const char *text, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	const char *e, *m;

	while (harness_now_ms() < end) {
		e = sdt_notify_recv(jfd, (int)(end - harness_now_ms()));
		if (e && (m = sdt_value(e, "MESSAGE=")) && !strncmp(m, text, strlen(text)))
			return e;
	}
	return NULL;
}

static void private_run(void)
{
	if (geteuid() != 0)
		tap_skip_all("needs root, for a private mount namespace");
	if (unshare(CLONE_NEWNS) < 0)
		tap_skip_all("no private mount namespace here: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
	    mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
		tap_bail("cannot set up the stand-in journal: %s", strerror(errno));
	jfd = sdt_notify_bind(JOURNAL);
}

int main(void)
{
	char sock[128], log[128], config[128], stream[64];
	char *argv[] = {(char *)harness_env("DMAD_BIN"),
			"--socket",
			sock,
			"--engines",
			"1",
			"--config",
			config,
			NULL};
	char *env[] = {stream, NULL};
	struct dmad_proto_log_level_req req = {.level = 6};
	struct dmad_proto_dev_remove_req rm = {.name = "dma_skeleton0", .timeout_ms = 5000};
	struct sdt_proc p;
	const char *e;
	char pid[32];
	struct stat st;
	int fd, r;

	harness_watchdog(60);
	private_run();
	sdt_path(sock, sizeof(sock), "dmad.sock");
	sdt_path(config, sizeof(config), "dmad.conf");
	/* sdt_start() writes dmad's stderr to this file, the same inode. */
	fd = open(sdt_path(log, sizeof(log), "dmad.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		tap_bail("%s: %s", log, strerror(errno));
	close(fd);
	snprintf(stream, sizeof(stream), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	sdt_start(&p, "dmad", argv, env);

	/* DPDK's own lines come the same way, before dmad is ready. */
	e = entry("skeldma_probe(): Create dma_skeleton0", 30000);
	ok(e && sdt_has_line(e, "PRIORITY=6") && sdt_has_line(e, "SYSLOG_IDENTIFIER=dmad"),
	   "DPDK's driver line reaches the journal as dmad's, at PRIORITY=6");
	e = entry("ready on", 30000);
	if (!ok(e, "dmad's 'ready' message reaches the journal"))
		return tap_done();
	ok(sdt_has_line(e, "PRIORITY=6"), "at PRIORITY=6 (info)");
	ok(sdt_has_line(e, "SYSLOG_IDENTIFIER=dmad"), "with SYSLOG_IDENTIFIER=dmad");
	ok(!sdt_has_line(e, "DMAD_EVENT="), "and no DMAD_EVENT= where there is none");
	ok(!sdt_log_has(&p, "dmad: "), "nothing of dmad's own went to stderr");

	kill(p.pid, SIGHUP);
	e = entry("reloaded", 5000);
	ok(e && sdt_has_line(e, "DMAD_EVENT=reload") && sdt_has_line(e, "PRIORITY=5"),
	   "a reload: DMAD_EVENT=reload, PRIORITY=5");

	fd = raw_connect(sock);
	r = fd >= 0 && raw_hello(fd, "journal") == 0
		    ? raw_request(fd, DMAD_PROTO_LOG_LEVEL, &req, sizeof(req), NULL, 0, NULL)
		    : -1;
	ok(r == 0, "LOG_LEVEL info (%d)", r);
	snprintf(pid, sizeof(pid), "DMAD_CLIENT_PID=%d", (int)getpid());
	e = entry("log level set to info", 5000);
	ok(e && sdt_has_line(e, "DMAD_EVENT=log-level") && sdt_has_line(e, pid),
	   "a log level change: DMAD_EVENT=log-level, %s", pid);

	r = raw_request(fd, DMAD_PROTO_DEV_REMOVE, &rm, sizeof(rm), NULL, 0, NULL);
	ok(r == 0, "DEV_REMOVE dma_skeleton0 (%d)", r);
	e = entry("removing device dma_skeleton0", 5000);
	ok(e && sdt_has_line(e, "DMAD_EVENT=device-draining") &&
		   sdt_has_line(e, "DMAD_DEVICE=dma_skeleton0"),
	   "a removal starts: DMAD_EVENT=device-draining, DMAD_DEVICE=dma_skeleton0");
	e = entry("device dma_skeleton0 released", 5000);
	ok(e && sdt_has_line(e, "DMAD_EVENT=device-removed") &&
		   sdt_has_line(e, "DMAD_DEVICE=dma_skeleton0"),
	   "and ends: DMAD_EVENT=device-removed, DMAD_DEVICE=dma_skeleton0");
	close(fd);

	fd = open(config, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "DMAD_WATCHDOG_MS=0\n", 19) != 19)
		tap_bail("%s: %s", config, strerror(errno));
	close(fd);
	kill(p.pid, SIGHUP);
	e = entry(config, 5000);
	ok(e && sdt_has_line(e, "PRIORITY=3") &&
		   strstr(e, "DMAD_WATCHDOG_MS=0 is not a valid value"),
	   "a bad config file: the error at PRIORITY=3");

	r = sdt_stop(&p, SIGTERM, 10000);
	ok(r == 0, "dmad exits 0 on SIGTERM (%d)", r);
	return tap_done();
}
