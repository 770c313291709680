/* SPDX-License-Identifier: MIT */
/*
 * dmad killed with SIGKILL while clients copy: each client sees -ENODEV
 * promptly (no call hangs), a new dmad starts on the same socket path
 * although the dead one's socket file is still there, and every client
 * reconnects to it and copies correctly again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"

#define CLIENTS	     3
#define PROMPT_MS    1000
#define RECONNECT_MS 20000
#define ROUNDS_AFTER 5

/* What a client reports: when it noticed, what it got, how it ended up. */
struct report {
	int64_t noticed_ms;
	int32_t err;
	int32_t after; /* 0: reconnected and copied correctly, else -errno */
};

static pid_t second_pid;
static char second_log[128];

static void stop_second(void)
{
	if (second_pid > 0) {
		kill(second_pid, SIGKILL);
		waitpid(second_pid, NULL, 0);
		second_pid = 0;
	}
	unlink(second_log);
}

/* Can a client connect to @socket now? */
static bool connectable(const char *socket)
{
	struct dmac_client *c;

	if (dmac_connect(socket, "probe", &c) < 0)
		return false;
	dmac_disconnect(c);
	return true;
}

/* dmad on @socket (the harness would make a new path), stopped at exit. */
static bool start_second(const char *socket, const char *dir)
{
	const char *bin = harness_env("DMAD_BIN");
	int64_t end = harness_now_ms() + HARNESS_START_MS;
	int log;

	snprintf(second_log, sizeof(second_log), "%s/dmad-second.log", dir);
	log = open(second_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log < 0)
		tap_bail("open %s: %s", second_log, strerror(errno));
	atexit(stop_second);
	second_pid = harness_fork();
	if (second_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0)
			_exit(127);
		execl(bin, bin, "--socket", socket, (char *)NULL);
		_exit(127);
	}
	close(log);
	while (!connectable(socket)) {
		if (waitpid(second_pid, NULL, WNOHANG) == second_pid || harness_now_ms() > end) {
			second_pid = 0;
			return false;
		}
		usleep(20000);
	}
	return true;
}

static void client_main(const char *socket, uint32_t seed, int out)
{
	struct report rep = {0};
	struct copier k;
	int64_t end;
	int r;

	if (copier_init(&k, socket, "restart", 1 << 20, 1 << 20, 256 << 10, seed) < 0)
		_exit(2);
	dmac_chan_set_copybreak(k.ch, 0);
	/* Copy until the daemon goes; the first round tells the parent we run. */
	if (copier_round(&k, 16) < 0 || write(out, "r", 1) != 1)
		_exit(3);
	while ((r = copier_round(&k, 16)) == 0)
		;
	rep.noticed_ms = harness_now_ms();
	rep.err = r;
	copier_fini(&k);

	end = harness_now_ms() + RECONNECT_MS;
	while (!connectable(socket) && harness_now_ms() < end)
		usleep(50000);
	r = copier_init(&k, socket, "restart", 1 << 20, 1 << 20, 256 << 10, seed + 1);
	if (r == 0)
		dmac_chan_set_copybreak(k.ch, 0);
	for (unsigned i = 0; r == 0 && i < ROUNDS_AFTER; i++)
		r = copier_round(&k, 16);
	rep.after = r;
	copier_fini(&k);
	_exit(write(out, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 4);
}

int main(void)
{
	struct report rep[CLIENTS];
	struct harness_dmad *d;
	pid_t pids[CLIENTS];
	int out[CLIENTS], r;
	int64_t killed_at, worst = 0;
	unsigned noticed = 0, enodev = 0, back = 0;
	struct stat st;
	char ready;

	harness_watchdog(100);
	d = harness_dmad_start(NULL);
	for (unsigned i = 0; i < CLIENTS; i++) {
		int p[2];

		if (pipe(p) < 0)
			tap_bail("pipe: %s", strerror(errno));
		pids[i] = harness_fork();
		if (pids[i] == 0) {
			close(p[0]);
			client_main(d->socket, 100 + i, p[1]);
		}
		close(p[1]);
		out[i] = p[0];
		if (read(out[i], &ready, 1) != 1)
			tap_bail("client %u did not start copying", i);
	}

	killed_at = harness_now_ms();
	r = harness_dmad_stop(d, SIGKILL);
	ok(r == -SIGKILL, "dmad killed with SIGKILL under load from %d clients (%d)", CLIENTS, r);
	ok(stat(d->socket, &st) == 0 && S_ISSOCK(st.st_mode),
	   "its socket file is left behind, as after any crash");

	ok(start_second(d->socket, d->dir),
	   "a new dmad starts on the same path, the stale socket file notwithstanding");

	for (unsigned i = 0; i < CLIENTS; i++) {
		struct pollfd p = {.fd = out[i], .events = POLLIN};

		if (poll(&p, 1, RECONNECT_MS + 10000) != 1 ||
		    read(out[i], &rep[i], sizeof(rep[i])) != (ssize_t)sizeof(rep[i])) {
			tap_diag("client %u reported nothing", i);
			continue;
		}
		noticed++;
		enodev += rep[i].err == -ENODEV;
		worst = rep[i].noticed_ms - killed_at > worst ? rep[i].noticed_ms - killed_at
							      : worst;
		back += rep[i].after == 0;
		if (rep[i].err != -ENODEV || rep[i].after)
			tap_diag("client %u: saw %d, then %d", i, rep[i].err, rep[i].after);
	}
	for (unsigned i = 0; i < CLIENTS; i++) {
		harness_wait_child(pids[i], 5000, "client");
		close(out[i]);
	}
	ok(noticed == CLIENTS && enodev == CLIENTS,
	   "every client's copies ended with -ENODEV (%u of %u)", enodev, CLIENTS);
	ok(noticed == CLIENTS && worst < PROMPT_MS,
	   "each noticed within %d ms of the kill (the slowest after %lld ms)", PROMPT_MS,
	   (long long)worst);
	ok(back == CLIENTS, "every client reconnected to the new dmad and copied correctly (%u)",
	   back);

	if (second_pid > 0) {
		kill(second_pid, SIGTERM);
		ok(harness_wait_child(second_pid, HARNESS_STOP_MS, "the second dmad"),
		   "the new dmad exits 0 on SIGTERM");
		second_pid = 0;
	}
	return tap_done();
}
