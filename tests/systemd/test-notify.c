/* SPDX-License-Identifier: MIT */
/*
 * dmad's side of sd_notify(3), checked from the service manager's side: a
 * datagram socket in $NOTIFY_SOCKET, a watchdog in $WATCHDOG_USEC.
 *   READY=1 comes first, with STATUS=, and the socket accepts by then;
 *   STATUS= follows clients and channels as they come and go;
 *   WATCHDOG=1 comes at half the interval, never a whole interval apart,
 *   and stops while a worker is stopped (ptrace), to resume after;
 *   SIGHUP gives RELOADING=1 then READY=1, with the file's settings in
 *   force, and a bad file changes nothing;
 *   SIGTERM gives STOPPING=1, then exit 0.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "sdtest.h"

#define WATCHDOG_MS 600

static struct sdt_proc dmad;
static int nfd;

/* What the manager has heard, as the test goes along. */
static struct {
	unsigned pings;
	int64_t last_ping_ms;
	int64_t max_gap_ms;
	char status[256];
	bool ready_seen; /* a READY=1 since the last reset */
} heard;

static void note(const char *msg)
{
	const char *st = sdt_value(msg, "STATUS=");
	int64_t now = harness_now_ms();

	if (sdt_has_line(msg, "WATCHDOG=1")) {
		if (heard.last_ping_ms && now - heard.last_ping_ms > heard.max_gap_ms)
			heard.max_gap_ms = now - heard.last_ping_ms;
		heard.last_ping_ms = now;
		heard.pings++;
	}
	if (sdt_has_line(msg, "READY=1"))
		heard.ready_seen = true;
	if (st)
		snprintf(heard.status, sizeof(heard.status), "%s", st);
}

static void reset_pings(void)
{
	heard.pings = 0;
	heard.max_gap_ms = 0;
}

/* Read messages until one has @line; NULL after @timeout_ms. */
static const char *wait_for(const char *line, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	const char *msg;

	while (harness_now_ms() < end) {
		msg = sdt_notify_recv(nfd, (int)(end - harness_now_ms()));
		if (!msg)
			break;
		note(msg);
		if (sdt_has_line(msg, line))
			return msg;
	}
	return NULL;
}

/* Read every message for @ms. */
static void listen_for(int ms)
{
	int64_t end = harness_now_ms() + ms;
	const char *msg;

	while (harness_now_ms() < end)
		if ((msg = sdt_notify_recv(nfd, (int)(end - harness_now_ms()))))
			note(msg);
}

static bool status_becomes(const char *want, int timeout_ms)
{
	char line[sizeof(heard.status) + 16];

	if (!strcmp(heard.status, want))
		return true;
	snprintf(line, sizeof(line), "STATUS=%s", want);
	return wait_for(line, timeout_ms) != NULL;
}

static void write_config(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_bail("cannot write %s: %s", path, strerror(errno));
}

/* The copybreak a new client's channel gets, or a negative errno. */
static long new_chan_copybreak(const char *socket)
{
	struct dmac_client *c;
	struct dmac_chan *ch;
	long r = dmac_connect(socket, "notify-copybreak", &c);

	if (r < 0)
		return r;
	r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (r == 0) {
		r = (long)dmac_chan_copybreak(ch);
		dmac_chan_put(ch);
	}
	dmac_disconnect(c);
	return r;
}

static pid_t find_thread(pid_t pid, const char *comm)
{
	char path[320], name[64];
	struct dirent *e;
	pid_t tid = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && !tid && (e = readdir(d))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, e->d_name);
		f = fopen(path, "re");
		if (f && fgets(name, sizeof(name), f) && !strncmp(name, comm, strlen(comm)))
			tid = atoi(e->d_name);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return tid;
}

static void check_ready(const char *socket)
{
	const char *msg = sdt_notify_recv(nfd, 30000);

	if (!ok(msg, "dmad sent something within 30 s"))
		tap_bail("no notification from dmad");
	note(msg);
	tap_diag("first message: %s", msg);
	ok(sdt_has_line(msg, "READY=1"), "the first message says READY=1");
	ok(!strcmp(heard.status, "2 device(s) online, 0 client(s), 0 channel(s)"),
	   "with STATUS=2 device(s) online, 0 client(s), 0 channel(s) (\"%s\")", heard.status);
	ok(sdt_wait_connect(socket, 0), "the socket accepts as soon as READY=1 is sent");
}

static void check_pings(void)
{
	reset_pings();
	listen_for(2000);
	ok(heard.pings >= 4, "%u WATCHDOG=1 in 2 s with a %d ms watchdog", heard.pings,
	   WATCHDOG_MS);
	ok(heard.max_gap_ms < WATCHDOG_MS, "never %d ms apart (longest gap %lld ms)", WATCHDOG_MS,
	   (long long)heard.max_gap_ms);
}

static void check_status(const char *socket)
{
	struct copier k;
	int r;

	r = copier_init(&k, socket, "notify", 1 << 20, 1 << 20, 64 << 10, 7);
	if (!ok(r == 0, "a client connects and takes a channel (%d)", r))
		return;
	ok(status_becomes("2 device(s) online, 1 client(s), 1 channel(s)", 2000),
	   "STATUS= counts the client and its channel (\"%s\")", heard.status);
	r = copier_round(&k, 16);
	ok(r == 0, "its copies are right (%d)", r);
	copier_fini(&k);
	ok(status_becomes("2 device(s) online, 0 client(s), 0 channel(s)", 2000),
	   "and forgets them when it leaves (\"%s\")", heard.status);
}

static void check_stuck_worker(void)
{
	pid_t tid = find_thread(dmad.pid, "rte-worker");
	int st, r;

	if (!tid) {
		ok(false, "found dmad's worker thread in /proc/%d/task", dmad.pid);
		return;
	}
	/* The parent may trace its child's threads, root or not. */
	r = ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0 &&
			    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == 0
		    ? 0
		    : -errno;
	if (!ok(r == 0, "stop the worker thread %d with ptrace (%s)", tid, r ? strerror(-r) : "ok"))
		return;
	if (waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st))
		tap_bail("the worker thread %d did not stop", tid);
	reset_pings();
	listen_for(3 * WATCHDOG_MS);
	/* The ping already due may go out: the worker looped before it stopped. */
	ok(heard.pings <= 1, "%u WATCHDOG=1 in %d ms while a worker is stopped", heard.pings,
	   3 * WATCHDOG_MS);
	ok(sdt_log_has(&dmad, "withholding the watchdog ping"), "dmad says why it stopped pinging");
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	reset_pings();
	listen_for(2 * WATCHDOG_MS);
	ok(heard.pings >= 1, "pings resume once it runs again (%u in %d ms)", heard.pings,
	   2 * WATCHDOG_MS);
}

/* SIGHUP: RELOADING=1, then READY=1, and nothing ready in between. */
static void reload(const char *what)
{
	const char *msg;

	heard.ready_seen = false;
	kill(dmad.pid, SIGHUP);
	msg = wait_for("RELOADING=1", 5000);
	ok(msg && !heard.ready_seen, "%s: RELOADING=1 first", what);
	ok(msg && sdt_has_line(msg, "MONOTONIC_USEC="), "%s: with MONOTONIC_USEC=", what);
	ok(wait_for("READY=1", 5000), "%s: then READY=1", what);
}

static void check_reload(const char *socket, const char *config)
{
	long cb;

	ok(!sdt_log_has(&dmad, "hello as"), "before the reload, no debug messages");
	write_config(config, "# changed\nDMAD_LOG_LEVEL=debug\nDMAD_COPYBREAK='777'\n");
	reload("a new file");
	cb = new_chan_copybreak(socket);
	ok(cb == 777, "a new channel gets the file's copybreak 777 (%ld)", cb);
	ok(sdt_log_has(&dmad, "hello as"), "and debug messages show");

	write_config(config, "DMAD_COPYBREAK=lots\n");
	reload("a bad file");
	cb = new_chan_copybreak(socket);
	ok(cb == 777, "a bad file changes nothing: copybreak still 777 (%ld)", cb);
	ok(sdt_log_has(&dmad, "DMAD_COPYBREAK=lots is not a valid value"),
	   "and dmad says what is wrong in it");
}

int main(void)
{
	char socket[128], notify[128], config[128];
	char env_notify[160], env_watchdog[64];
	char *env[] = {env_notify, env_watchdog, "WATCHDOG_PID=", NULL};
	char *argv[] = {(char *)harness_env("DMAD_BIN"),
			"--socket",
			socket,
			"--engines",
			"2",
			"--config",
			config,
			NULL};
	int r;

	harness_watchdog(90);
	unsetenv("DMAC_COPYBREAK");
	sdt_path(socket, sizeof(socket), "dmad.sock");
	sdt_path(notify, sizeof(notify), "notify");
	sdt_path(config, sizeof(config), "dmad.conf");
	write_config(config, "DMAD_OPTS=\"--workers 1\"\nDMAD_LOG_LEVEL=info\n");
	nfd = sdt_notify_bind(notify);
	snprintf(env_notify, sizeof(env_notify), "NOTIFY_SOCKET=%s", notify);
	snprintf(env_watchdog, sizeof(env_watchdog), "WATCHDOG_USEC=%d", WATCHDOG_MS * 1000);

	sdt_start(&dmad, "dmad", argv, env);
	check_ready(socket);
	check_pings();
	check_status(socket);
	check_stuck_worker();
	check_reload(socket, config);

	kill(dmad.pid, SIGTERM);
	ok(wait_for("STOPPING=1", 10000), "SIGTERM: STOPPING=1");
	r = sdt_stop(&dmad, 0, 10000);
	ok(r == 0, "then dmad exits 0 (%d)", r);
	return tap_done();
}
