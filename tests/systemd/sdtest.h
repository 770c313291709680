/* SPDX-License-Identifier: MIT */
/*
 * What the systemd tests share: run dmad the way a service manager would
 * (under a wrapper, with LISTEN_FDS / NOTIFY_SOCKET / JOURNAL_STREAM in its
 * environment), and play the service manager's side of sd_notify.
 *
 * Every process started here is killed when the test exits, however it
 * exits (atexit, and PR_SET_PDEATHSIG for the rest); its log is printed as
 * TAP diagnostics when a check failed.
 */
#ifndef TESTS_SYSTEMD_SDTEST_H
#define TESTS_SYSTEMD_SDTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sdt_proc {
	pid_t pid; /* 0 once reaped */
	char log[128];
};

/* sdt_dir() - a private directory for this test, removed at exit. */
const char *sdt_dir(void);

/* sdt_path() - "sdt_dir()/@name" written into @buf; returns @buf. */
char *sdt_path(char *buf, size_t size, const char *name);

/*
 * sdt_start() - run @argv (argv[0] a path) with stdin from /dev/null and
 * stdout and stderr to @p->log (in sdt_dir(), named after @name). @env adds
 * "NAME=value" strings to the environment (NULL-terminated, may be NULL);
 * "NAME=" alone removes NAME, and "WATCHDOG_PID=" or "LISTEN_PID=" followed
 * by nothing else is set to the child's own pid. The service manager's variables the test
 * itself may have inherited (NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*,
 * JOURNAL_STREAM) are removed first. Bails out if it cannot fork.
 */
void sdt_start(struct sdt_proc *p, const char *name, char *const argv[], char *const env[]);

/* sdt_start_fds() - sdt_start(), with @fds at 3, 4, ... in the child, as
 * systemd passes LISTEN_FDS. */
void sdt_start_fds(struct sdt_proc *p, const char *name, char *const argv[], char *const env[],
		   const int *fds, unsigned nfds);

/* Still running? Reaps it (and says how it ended) if not. */
bool sdt_alive(struct sdt_proc *p);

/*
 * sdt_stop() - send @sig (0: none) and reap within @timeout_ms, then
 * SIGKILL. Returns the exit code (>= 0), -signo, or -ETIMEDOUT.
 */
int sdt_stop(struct sdt_proc *p, int sig, int timeout_ms);

/* Print @p's log so far as "# " lines. */
void sdt_dump_log(const struct sdt_proc *p);

/* Does @p's log contain @text? */
bool sdt_log_has(const struct sdt_proc *p, const char *text);

/* Until @path accepts a SOCK_SEQPACKET connection, or @timeout_ms. */
bool sdt_wait_connect(const char *path, int timeout_ms);

/*
 * The service manager's end of sd_notify: an AF_UNIX datagram socket bound
 * at @path. sdt_notify_recv() returns the next message (NUL-terminated,
 * "K=V" lines) within @timeout_ms, or NULL.
 */
int sdt_notify_bind(const char *path);
const char *sdt_notify_recv(int fd, int timeout_ms);

/*
 * sdt_notify_recv_fds() - sdt_notify_recv(), and the fds that came with the
 * message (SCM_RIGHTS, FD_CLOEXEC) into @fds: *@ret_n of them, at most @max
 * (the rest closed).
 */
const char *sdt_notify_recv_fds(int fd, int timeout_ms, int *fds, unsigned max, unsigned *ret_n);

/* Is "K=V" (or "K=V" with V any, for "K=") a line of @msg? */
bool sdt_has_line(const char *msg, const char *line);

/* The value of "K=" in @msg, up to the end of its line, in a static buffer; NULL if absent. */
const char *sdt_value(const char *msg, const char *key);

#endif /* TESTS_SYSTEMD_SDTEST_H */
