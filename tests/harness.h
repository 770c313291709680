/* SPDX-License-Identifier: MIT */
/*
 * Integration test harness: run the real dmad (and dmactl) as child
 * processes, each daemon on a socket in its own temporary directory.
 *
 * Whatever a test starts is stopped when the test exits, however it exits:
 * atexit for normal and tap_bail() exits, a signal handler for meson's
 * timeout and harness_watchdog(), and PR_SET_PDEATHSIG for the rest. When
 * any check failed, each daemon's log is printed as TAP diagnostics.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tap.h"

/* How long dmad may take to accept connections, and to exit when asked. */
#define HARNESS_START_MS 20000
#define HARNESS_STOP_MS	 10000

struct harness_dmad {
	pid_t pid;  /* 0 once reaped */
	int status; /* wait status once reaped */
	char dir[64];
	char socket[96];
	char log[96];
	/* EAL's runtime files and directories: dmad removes them, unless killed. */
	char telemetry[112];
	char eal_dirs[2][80];
};

/*
 * harness_dmad_start() - run $DMAD_BIN --socket <tmpdir>/dmad.sock plus the
 * NULL-terminated extra arguments, and wait until the socket accepts a
 * connection. Bails out (the test fails) if it cannot.
 */
struct harness_dmad *harness_dmad_start(const char *arg, ...);

/*
 * harness_dmad_wait_ready() - wait until dmad logged "ready on": its socket
 * accepts (into the backlog) while EAL still starts, so a test that acts on
 * the process itself (its limits, its fds) waits for this. Bails out as
 * harness_dmad_start() does.
 */
void harness_dmad_wait_ready(struct harness_dmad *d);

/* Is the daemon still running (not exited, not killed)? */
bool harness_dmad_alive(struct harness_dmad *d);

/*
 * harness_dmad_stop() - send @sig and reap the daemon, sending SIGKILL if it
 * has not exited within HARNESS_STOP_MS. Returns its exit code (>= 0), or
 * -signo when a signal ended it, or -ETIMEDOUT when it had to be killed.
 * The directory and log stay until the test exits.
 */
int harness_dmad_stop(struct harness_dmad *d, int sig);

/* The usual last check: SIGTERM, and dmad exits 0 (drained, no crash). */
void harness_dmad_finish(struct harness_dmad *d);

/*
 * harness_run() - run @argv (argv[0] a path) with stdout captured into
 * @out (NUL-terminated, truncated to @size - 1) and stderr to the TAP
 * stream as diagnostics. Returns its exit code, -signo, or -ETIMEDOUT
 * (killed after @timeout_ms).
 */
int harness_run(char *const argv[], char *out, size_t size, int timeout_ms);

struct jv;
/*
 * harness_status_json() - `dmactl --socket @socket --json status`, as root,
 * read by jsonread.h. NULL when dmactl failed or printed no JSON; else
 * jv_free() it.
 */
struct jv *harness_status_json(const char *socket);

/*
 * harness_capture() - read a child's stdout (@out_fd) and stderr (@err_fd)
 * until both close or the harness_now_ms() time @end passes, into @out and
 * @err (NUL-terminated; what does not fit is read and dropped).
 */
void harness_capture(int out_fd, int err_fd, char *out, size_t size, char *err, size_t esize,
		     int64_t end);

/* $name, or a bail out when the test was not started by meson. */
const char *harness_env(const char *name);

/* Fail the whole test (with the daemons' logs) if still running after @s. */
void harness_watchdog(unsigned int s);

/* Milliseconds on the monotonic clock, for bounds on how long calls take. */
int64_t harness_now_ms(void);

/*
 * harness_wait_child() - reap @pid, killing it after @timeout_ms. Returns
 * true when it exited with status 0; says why not otherwise.
 */
bool harness_wait_child(pid_t pid, int timeout_ms, const char *what);

/* Flush stdout and fork; the child never runs the harness's cleanup. */
pid_t harness_fork(void);

#endif /* TESTS_HARNESS_H */
