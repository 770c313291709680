/* SPDX-License-Identifier: MIT */
/*
 * DPDK's own log lines (EAL, drivers) go through dmad's logger: on stderr
 * with dmad's prefix and a severity word, under dmad's log level; when
 * stderr is the journal's stream ($JOURNAL_STREAM) but the journal's
 * socket does not answer, with the "<N>" prefix journald reads. And what
 * DPDK said when `dmactl add` failed reaches dmactl: the reason, not only
 * "probe found no usable DMA device".
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sdtest.h"

/* Every line of @log holding @text, one after another in @buf; how many. */
static int lines_with(const char *log, const char *text, char *buf, size_t size)
{
	char line[1024];
	size_t off = 0;
	FILE *f = fopen(log, "re");
	int n = 0;

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, text)) {
			n++;
			off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%s", line);
			if (off >= size)
				off = size - 1;
		}
	if (f)
		fclose(f);
	return n;
}

/* Run dmactl, with its stderr in @err; returns 0 when it exited 0. */
static int dmactl(const char *socket, char *err, size_t size, const char *a, const char *b)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			(char *)socket,
			(char *)a,
			(char *)b,
			NULL};
	int p[2], r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe: %m");
	pid = harness_fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* Its stdout is not TAP: away with it. */
		dup2(null, STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	r = (int)read(p[0], err, size - 1);
	err[r > 0 ? r : 0] = '\0';
	close(p[0]);
	return harness_wait_child(pid, 10000, "dmactl") ? 0 : 1;
}

/* On a plain stderr: dmad's prefix, severity words, dmad's level. */
static void plain(void)
{
	struct harness_dmad *d = harness_dmad_start("--engines", "1", NULL);
	char buf[4096], err[1024];
	int n;

	/* The socket may take connections before the devices are probed. */
	for (int64_t end = harness_now_ms() + 10000;
	     !lines_with(d->log, "ready on", buf, sizeof(buf)) && harness_now_ms() < end;)
		usleep(20000);
	n = lines_with(d->log, "skeldma_probe()", buf, sizeof(buf));
	ok(n >= 1 && !strncmp(buf, "dmad: skeldma_probe(): Create dma_skeleton0", 43),
	   "DPDK's driver line comes with dmad's prefix (%s)", buf);
	ok(n == lines_with(d->log, "dmad: skeldma_probe()", buf, sizeof(buf)),
	   "and none without it");

	dmactl(d->socket, err, sizeof(err), "add", "bogus");
	ok(strstr(err, "cannot add bogus: probe found no usable DMA device: EAL: ") &&
		   strstr(strstr(err, "EAL: "), "bogus"),
	   "dmactl add bogus says why, in DPDK's words (%s)", err);
	n = lines_with(d->log, "bogus", buf, sizeof(buf));
	ok(n >= 1 && !strncmp(buf, "dmad: error: EAL: ", 18),
	   "dmad logged DPDK's error as an error, with its prefix (%s)", buf);

	dmactl(d->socket, err, sizeof(err), "log-level", "err");
	dmactl(d->socket, err, sizeof(err), "add", "dma_skeleton5");
	ok(!lines_with(d->log, "Create dma_skeleton5", buf, sizeof(buf)),
	   "at log level err, DPDK's info line for a new device is left out (%s)", buf);
	dmactl(d->socket, err, sizeof(err), "log-level", "info");
	dmactl(d->socket, err, sizeof(err), "add", "dma_skeleton6");
	ok(lines_with(d->log, "dmad: skeldma_probe(): Create dma_skeleton6", buf, sizeof(buf)) == 1,
	   "at info it is there");
	harness_dmad_finish(d);
}

/*
 * $JOURNAL_STREAM names stderr, and /run has no journal socket: a private
 * mount namespace with a tmpfs over /run, so that no real journal answers.
 */
static void journal_gone(void)
{
	char sock[128], log[128], stream[64], buf[4096];
	char *argv[] = {(char *)harness_env("DMAD_BIN"), "--socket", sock, "--engines", "1", NULL};
	char *env[] = {stream, NULL};
	struct sdt_proc p;
	struct stat st;
	int fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0) {
		tap_skip("the journal's stream without its socket: needs root and a mount "
			 "namespace");
		return;
	}
	sdt_path(sock, sizeof(sock), "dmad.sock");
	/* sdt_start() writes dmad's stderr to this file, the same inode. */
	fd = open(sdt_path(log, sizeof(log), "dmad.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		tap_bail("%s: %s", log, strerror(errno));
	close(fd);
	snprintf(stream, sizeof(stream), "JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	sdt_start(&p, "dmad", argv, env);
	ok(sdt_wait_connect(sock, 30000), "dmad starts with no journal to talk to");
	for (int64_t end = harness_now_ms() + 5000;
	     !lines_with(log, "<6>ready on", buf, sizeof(buf)) && harness_now_ms() < end;)
		usleep(20000);
	ok(lines_with(log, "<6>ready on", buf, sizeof(buf)) == 1,
	   "dmad's lines go to stderr as <N>");
	ok(lines_with(log, "<6>skeldma_probe(): Create dma_skeleton0", buf, sizeof(buf)) == 1,
	   "DPDK's info line too, <6> for info");

	ok(!lines_with(log, "dmad: ", buf, sizeof(buf)), "no line in the tty form (%s)", buf);
	ok(sdt_stop(&p, SIGTERM, 10000) == 0, "dmad exits 0 on SIGTERM");
}

int main(void)
{
	harness_watchdog(60);
	plain();
	journal_gone();
	return tap_done();
}
