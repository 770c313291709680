/* SPDX-License-Identifier: MIT */
/*
 * `dmactl monitor` against a live dmad: a client connecting and going, a
 * device added, two removed under a client's channel (it moves), one
 * failed by an injected hang (the channel moves to dmad's CPU engine), each
 * shows as one JSON line with the right fields. A monitor that never reads
 * does not slow dmad down, and once it reads, what it got plus what a LOST
 * record says it lost is exactly what happened. SIGINT ends dmactl monitor
 * with 0; dmad going away ends it with 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"
#include "rawproto.h"

#define WAIT_MS	    8000
#define FLOOD	    600 /* connections: 1200 events, more than a socket buffer holds */
#define SLOW_MAX_MS 1000

struct mon {
	pid_t pid;
	int fd;
	char buf[1 << 18];
	size_t len, seen; /* bytes read; bytes of whole lines already matched */
};

static struct harness_dmad *d;
static int wait_ms = WAIT_MS; /* for the next line */

static void mon_start(struct mon *m, const char *fmt)
{
	int p[2];

	/* Close-on-exec: the monitor must not hold its own pipe's read end, or
	 * it would block for ever on a full pipe once this test is gone. */
	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe: %m");
	m->len = m->seen = 0;
	m->pid = harness_fork();
	if (m->pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execl(harness_env("DMACTL_BIN"), "dmactl", "--socket", d->socket, "monitor", fmt,
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	m->fd = p[0];
}

/*
 * The next line, after those already matched, holding every one of the
 * NULL-terminated needles, within WAIT_MS; NULL if none. Lines it passes
 * over are skipped for good.
 */
static const char *mon_line(struct mon *m, ...)
{
	int64_t end = harness_now_ms() + wait_ms;

	for (;;) {
		char *nl;

		while ((nl = memchr(m->buf + m->seen, '\n', m->len - m->seen))) {
			char *line = m->buf + m->seen;
			bool all = true;
			va_list ap;

			*nl = '\0';
			m->seen = (size_t)(nl + 1 - m->buf);
			va_start(ap, m);
			for (const char *s; (s = va_arg(ap, const char *));)
				all = all && strstr(line, s);
			va_end(ap);
			if (all)
				return line;
		}
		struct pollfd p = {.fd = m->fd, .events = POLLIN};
		int64_t left = end - harness_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return NULL;
		n = read(m->fd, m->buf + m->len, sizeof(m->buf) - 1 - m->len);
		if (n <= 0)
			return NULL;
		m->len += (size_t)n;
	}
}

/* Its exit code, or -signo; killed (-SIGKILL) if still running after WAIT_MS. */
static int mon_exit(struct mon *m, int sig)
{
	int64_t end = harness_now_ms() + WAIT_MS;
	int status;

	if (sig)
		kill(m->pid, sig);
	/* Read what it still writes: blocked on a full pipe, it could not stop. */
	for (;;) {
		struct pollfd p = {.fd = m->fd, .events = POLLIN};
		char sink[4096];
		int64_t left = end - harness_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
		    read(m->fd, sink, sizeof(sink)) <= 0)
			break;
	}
	close(m->fd);
	while (waitpid(m->pid, &status, WNOHANG) == 0) {
		if (harness_now_ms() > end)
			kill(m->pid, SIGKILL);
		usleep(10000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int dmactl(const char *a, const char *b, const char *c)
{
	static char out[4096];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			d->socket,
			(char *)a,
			(char *)b,
			(char *)c,
			NULL};

	return harness_run(argv, out, sizeof(out), 30000);
}

/* The monitor is listening once it reports a client that connects after it:
 * that line, or NULL. */
static const char *mon_sync(struct mon *m)
{
	for (int i = 0; i < 50; i++) {
		int fd = raw_connect(d->socket);
		char name[32];

		snprintf(name, sizeof(name), "sync-%d", i);
		raw_hello(fd, name);
		close(fd);
		const char *line;

		wait_ms = 200;
		line = mon_line(m, "client-gone", name, NULL);
		wait_ms = WAIT_MS;
		if (line)
			return line;
	}
	return NULL;
}

static void check_events(struct mon *m)
{
	struct copier k = {0};
	char pid[32], move[64];
	const char *line;
	struct jv *j;

	snprintf(pid, sizeof(pid), "\"pid\":%d", (int)getpid());
	if (copier_init(&k, d->socket, "mon-copier", 1 << 20, 1 << 20, 64 << 10, 7) < 0)
		tap_bail("cannot start a copier");
	/* Every copy through the ring: an engine holds work when it hangs. */
	dmac_chan_set_copybreak(k.ch, 0);
	line = mon_line(m, "\"client-connected\"", "\"mon-copier\"", NULL);
	ok(line && strstr(line, pid), "client-connected for our copier, with our pid: %s",
	   line ? line : "none");
	j = line ? jv_parse(line) : NULL;
	ok(j && jv_num(jv_get(j, "time_ns"), 0) > 1e18 && jv_str(jv_get(j, "time"), NULL),
	   "a JSON line with the time");
	snprintf(move, sizeof(move), "\"client\":%.0f", jv_num(jv_get(j, "client"), -1));
	jv_free(j);

	ok(dmactl("add", "dma_skeleton7", NULL) == 0, "dmactl add dma_skeleton7");
	ok(mon_line(m, "\"device-added\"", "\"dma_skeleton7\"", NULL),
	   "device-added dma_skeleton7");

	/* Removing both first engines leaves the channel on dma_skeleton7. */
	ok(dmactl("remove", "dma_skeleton0", NULL) == 0, "dmactl remove dma_skeleton0");
	ok(mon_line(m, "\"device-removed\"", "\"dma_skeleton0\"", NULL), "device-removed");
	ok(dmactl("remove", "dma_skeleton1", NULL) == 0, "dmactl remove dma_skeleton1");
	ok(mon_line(m, "\"device-removed\"", "\"dma_skeleton1\"", NULL), "device-removed");
	ok(copier_round(&k, 8) == 0, "copies go on");

	/* Hung with work on it: the watchdog fails it, the CPU takes the channel. */
	ok(dmactl("fault", "dma_skeleton7", "hang") == 0, "dmactl fault dma_skeleton7 hang");
	ok(copier_round(&k, 8) == 0, "copies complete, redone by the CPU");
	line = mon_line(m, "\"device-failed\"", "\"dma_skeleton7\"", NULL);
	ok(line && strstr(line, "\"reason\":\"stopped completing\""), "device-failed, why: %s",
	   line ? line : "none");
	line = mon_line(m, "\"channel-moved\"", move, "\"from\":\"dma_skeleton7\"", NULL);
	ok(line && strstr(line, "\"to\":\"cpu\""), "our channel moved to dmad's CPU engine: %s",
	   line ? line : "none");
	copier_fini(&k);
	ok(mon_line(m, "\"client-gone\"", "\"mon-copier\"", pid, NULL), "client-gone");
}

/* A monitor that does not read must cost dmad nothing, and lose only a count. */
static void check_slow_monitor(void)
{
	struct raw_msg msg;
	int64_t worst = 0;
	/* The flood's HELLOs and closes, and those of one STATUS asker. */
	const uint64_t want = 2 * FLOOD + 2;
	uint64_t got = 0, lost = 0, markers = 0;
	int slow = raw_connect(d->socket);

	ok(raw_hello(slow, "slow") == 0 &&
		   raw_request(slow, DMAD_PROTO_MONITOR, NULL, 0, NULL, 0, &msg) == 0,
	   "a second monitor, which reads nothing for now");
	for (int i = 0; i < FLOOD; i++) {
		int64_t t = harness_now_ms();
		int fd = raw_connect(d->socket);

		if (raw_hello(fd, "flood") != 0)
			tap_bail("hello %d failed", i);
		t = harness_now_ms() - t;
		worst = t > worst ? t : worst;
		close(fd);
	}
	ok(worst < SLOW_MAX_MS, "%d clients came and went, each answered within %" PRId64 " ms",
	   FLOOD, worst);
	/* One connection of our own, not dmactl's: how many it makes is its business. */
	{
		int fd = raw_connect(d->socket);

		ok(raw_hello(fd, "asker") == 0 &&
			   raw_request(fd, DMAD_PROTO_STATUS, NULL, 0, NULL, 0, &msg) == 0,
		   "dmad answers STATUS meanwhile");
		close(fd);
	}

	/* Every event since MONITOR: received, or counted lost. */
	for (int64_t end = harness_now_ms() + WAIT_MS;
	     got + lost < want && harness_now_ms() < end;) {
		struct dmad_proto_hdr h;
		struct dmad_proto_monitor_event e;
		struct iovec iov[2] = {{&h, sizeof(h)}, {&e, sizeof(e)}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		struct pollfd p = {.fd = slow, .events = POLLIN};

		if (poll(&p, 1, 100) <= 0 || recvmsg(slow, &mh, 0) != sizeof(h) + sizeof(e))
			continue;
		if (h.type != DMAD_PROTO_MONITOR_EVENT)
			continue;
		if (e.type == DMAD_PROTO_MON_LOST) {
			lost += e.count;
			markers++;
		} else {
			got++;
		}
	}
	ok(markers >= 1 && lost > 0,
	   "events that did not fit were counted: %" PRIu64 " lost in %" PRIu64 " LOST record(s)",
	   lost, markers);
	ok(got + lost == want, "received %" PRIu64 " + lost %" PRIu64 " = %" PRIu64 " events", got,
	   lost, want);
	close(slow);
}

int main(void)
{
	struct mon *m = calloc(1, sizeof(*m));
	const char *line;
	int code;

	harness_watchdog(150);
	d = harness_dmad_start("--engines", "2", "--fault-injection", NULL);

	mon_start(m, "--json");
	if (!ok(mon_sync(m), "dmactl monitor --json reports a client that connects"))
		tap_bail("the monitor shows nothing");
	check_events(m);
	check_slow_monitor();
	ok(mon_exit(m, SIGINT) == 0, "SIGINT ends dmactl monitor with 0");

	mon_start(m, "--no-legend");
	line = mon_sync(m);
	ok(line && line[4] == '-' && strstr(line, "Z client-gone client=") &&
		   strstr(line, " name=sync-"),
	   "dmactl monitor prints one line an event: time, event, fields: %s",
	   line ? line : "none");
	harness_dmad_finish(d);
	code = mon_exit(m, 0);
	ok(code == 3, "dmad gone: dmactl monitor exits 3 (%d)", code);
	free(m);
	return tap_done();
}
