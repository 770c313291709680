/* SPDX-License-Identifier: MIT */
/*
 * Connections until the daemon runs out of file descriptors. Any local
 * user in group dma can open them, so reaching RLIMIT_NOFILE must cost the
 * daemon nothing but the refused connections: clients already connected
 * are served, the control thread does not spin on a failing accept nor
 * flood the log with it, and once the connections close new clients are
 * accepted again and every fd is given back. The daemon runs here with a
 * limit of 128 fds so that the test reaches it quickly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "procstat.h"
#include "rawproto.h"

#define DAEMON_NOFILE 128
#define MAX_CONNS     1000
#define SPIN_MAX_PCT  10
#define LOG_MAX_BYTES (64 << 10)
#define RECOVER_MS    3000
#define FLOOD_MS      1500

static int conns[MAX_CONNS];

/*
 * Lowered once it runs: DPDK's EAL raises the soft limit to the hard one at
 * start. Without DPDK telemetry, whose thread waits in accept() holding a
 * slot that /proc/PID/fd does not show: the count below would stop one short.
 */
static struct harness_dmad *start_limited(void)
{
	const struct rlimit low = {DAEMON_NOFILE, DAEMON_NOFILE};
	struct harness_dmad *d = harness_dmad_start("--", "--no-telemetry", NULL);

	/* EAL opens its drivers and memory with the limit it found. */
	harness_dmad_wait_ready(d);
	if (prlimit(d->pid, RLIMIT_NOFILE, &low, NULL) < 0)
		tap_bail("prlimit: %s", strerror(errno));
	return d;
}

/*
 * Non-blocking connects for FLOOD_MS, waiting a little whenever the
 * daemon's backlog is full: as many as it accepts, plus a full backlog.
 */
static unsigned flood(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t end = harness_now_ms() + FLOOD_MS;
	unsigned n = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	while (n < MAX_CONNS && harness_now_ms() < end) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			conns[n++] = fd;
			continue;
		}
		close(fd);
		usleep(10000);
	}
	return n;
}

/* CPU time of the daemon's main (control) thread, in clock ticks. */
static long control_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		tap_bail("%s: %s", path, strerror(errno));
	fclose(f);
	/* Fields 14 and 15, counted after the command name's closing parenthesis. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		tap_bail("cannot parse %s", path);
	return (long)(utime + stime);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* A new client served within RECOVER_MS, retrying while fds are given back. */
static bool recovers(const char *socket)
{
	int64_t end = harness_now_ms() + RECOVER_MS;

	do {
		int fd = raw_connect(socket);
		int r = fd >= 0 ? raw_hello(fd, "after") : fd;

		if (fd >= 0)
			close(fd);
		if (r == 0)
			return true;
		usleep(50000);
	} while (harness_now_ms() < end);
	return false;
}

int main(void)
{
	struct procstat before, at_limit, after;
	struct harness_dmad *d;
	struct bystander b;
	long hz = sysconf(_SC_CLK_TCK), ticks;
	int64_t t0, dt;
	unsigned n;
	off_t log0;
	int pre, r;

	harness_watchdog(120);
	d = start_limited();
	bystander_start(&b, d->socket);
	pre = raw_connect(d->socket);
	if (pre < 0 || raw_hello(pre, "connected-before") != 0)
		tap_bail("connect: %d", pre);
	usleep(300000);
	procstat_read(d->pid, &before);

	n = flood(d->socket);
	usleep(300000);
	procstat_read(d->pid, &at_limit);
	ok(at_limit.fds >= DAEMON_NOFILE,
	   "%u connections bring the daemon to its limit (%d of %d fds)", n, at_limit.fds,
	   DAEMON_NOFILE);

	t0 = harness_now_ms();
	r = raw_hello(pre, "again");
	dt = harness_now_ms() - t0;
	ok(r == -EALREADY && dt < 1000, "a client connected before is still answered (%d, %lld ms)",
	   r, (long long)dt);

	log0 = file_size(d->log);
	ticks = control_ticks(d->pid);
	sleep(1);
	ticks = control_ticks(d->pid) - ticks;
	ok(ticks * 100 < SPIN_MAX_PCT * hz,
	   "at its fd limit the control thread is not spinning: "
	   "%ld%% of a CPU for 1 s",
	   ticks * 100 / hz);
	ok(file_size(d->log) - log0 < LOG_MAX_BYTES, "nor flooding its log: %lld bytes in 1 s",
	   (long long)(file_size(d->log) - log0));

	for (unsigned i = 0; i < n; i++)
		close(conns[i]);
	ok(recovers(d->socket), "once they close, a new client is served within %d ms", RECOVER_MS);
	usleep(300000);
	procstat_read(d->pid, &after);
	ok(after.fds <= before.fds, "the daemon gave back every fd (%d, %d before)", after.fds,
	   before.fds);
	close(pre);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
