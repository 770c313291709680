/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"

#define MAX_DAEMONS 8
#define MAX_ARGS    16
#define LOG_TAIL    (32 * 1024) /* most of a log worth reading in a TAP stream */

static struct harness_dmad daemons[MAX_DAEMONS];
static unsigned int ndaemons;
static pid_t owner; /* forked children must not stop the test's daemons */

int64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int decode(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return -ECHILD;
}

/* Reap @pid within @timeout_ms, or kill it; returns decode() or -ETIMEDOUT. */
static int reap(pid_t pid, int timeout_ms, int *ret_status)
{
	int64_t end = harness_now_ms() + timeout_ms;
	int status = 0;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && harness_now_ms() < end)
		sleep_ms(5);
	if (r == pid) {
		*ret_status = status;
		return decode(status);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*ret_status = status;
	return -ETIMEDOUT;
}

static void remove_files(const struct harness_dmad *d)
{
	unlink(d->log);
	unlink(d->socket);
	unlink(d->telemetry);
	rmdir(d->eal_dirs[0]);
	rmdir(d->eal_dirs[1]);
	rmdir(d->dir);
}

/* Async-signal-safe calls only: kill, open, read, write, close, unlink, rmdir. */
static void on_signal(int sig)
{
	static const char msg[] = "Bail out! killed by a signal (timeout?); dmad logs on stderr\n";
	char buf[4096];

	if (getpid() != owner)
		_exit(128 + sig);
	for (unsigned int i = 0; i < ndaemons; i++)
		if (daemons[i].pid > 0)
			kill(daemons[i].pid, SIGKILL);
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	for (unsigned int i = 0; i < ndaemons; i++) {
		int fd = open(daemons[i].log, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			if (write(STDERR_FILENO, buf, (size_t)n) < 0)
				break;
		if (fd >= 0)
			close(fd);
		remove_files(&daemons[i]);
	}
	_exit(1);
}

/* Print the daemon's log (its tail, if long) as "# " lines. */
static void dump_log(const struct harness_dmad *d)
{
	char line[1024];
	struct stat st;
	FILE *f = fopen(d->log, "re");

	if (!f)
		return;
	tap_diag("---- dmad log (%s) ----", d->log);
	if (fstat(fileno(f), &st) == 0 && st.st_size > LOG_TAIL) {
		tap_diag("[... first %lld bytes left out ...]", (long long)(st.st_size - LOG_TAIL));
		fseek(f, st.st_size - LOG_TAIL, SEEK_SET);
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tap_diag("dmad| %s", line);
	}
	tap_diag("---- end of dmad log ----");
	fclose(f);
}

static void cleanup(void)
{
	if (getpid() != owner)
		return;
	for (unsigned int i = 0; i < ndaemons; i++) {
		struct harness_dmad *d = &daemons[i];

		if (d->pid > 0) {
			tap_diag("dmad (pid %d) still running at exit: killing it", d->pid);
			kill(d->pid, SIGKILL);
			reap(d->pid, HARNESS_STOP_MS, &d->status);
			d->pid = 0;
		}
		if (tap_failed())
			dump_log(d);
		remove_files(d);
	}
}

static void install(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGALRM};
	struct sigaction sa = {.sa_handler = on_signal};

	if (owner)
		return;
	owner = getpid();
	atexit(cleanup);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

void harness_watchdog(unsigned int s)
{
	install();
	alarm(s);
}

const char *harness_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		tap_bail("%s is not set: run this test with `meson test`", name);
	return v;
}

pid_t harness_fork(void)
{
	pid_t pid;

	install();
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	return pid;
}

bool harness_wait_child(pid_t pid, int timeout_ms, const char *what)
{
	int status, r = reap(pid, timeout_ms, &status);

	if (r == 0)
		return true;
	if (r == -ETIMEDOUT)
		tap_diag("%s: still running after %d ms, killed", what, timeout_ms);
	else if (r > 0)
		tap_diag("%s: exit status %d", what, r);
	else
		tap_diag("%s: killed by signal %d", what, -r);
	return false;
}

static bool try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void exec_dmad(char **argv, int logfd)
{
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* Never outlive the test, even if it is killed with SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != owner)
		_exit(127);
	if (nullfd < 0 || dup2(nullfd, STDIN_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
	    dup2(logfd, STDERR_FILENO) < 0)
		_exit(127);
	/* A test run under a systemd service must not notify that service. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "harness: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

struct harness_dmad *harness_dmad_start(const char *arg, ...)
{
	const char *bin = harness_env("DMAD_BIN"), *tmp = getenv("TMPDIR");
	char *argv[MAX_ARGS + 1], dir[sizeof(daemons[0].dir)];
	struct harness_dmad *d;
	unsigned int argc = 0;
	int64_t end;
	va_list ap;
	int logfd;

	install();
	if (ndaemons == MAX_DAEMONS)
		tap_bail("harness: more than %d daemons in one test", MAX_DAEMONS);
	d = &daemons[ndaemons];
	/* sun_path is 108 bytes: a long $TMPDIR would not fit. */
	if (!tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/dmad-test.XXXXXX", tmp);
	if (!mkdtemp(dir))
		tap_bail("mkdtemp %s: %s", dir, strerror(errno));
	memcpy(d->dir, dir, sizeof(dir));
	snprintf(d->socket, sizeof(d->socket), "%s/dmad.sock", dir);
	snprintf(d->log, sizeof(d->log), "%s/dmad.log", dir);
	snprintf(d->eal_dirs[1], sizeof(d->eal_dirs[1]), "%s/dpdk", dir);
	snprintf(d->eal_dirs[0], sizeof(d->eal_dirs[0]), "%s/dpdk/rte", dir);
	snprintf(d->telemetry, sizeof(d->telemetry), "%s/dpdk/rte/dpdk_telemetry.v2", dir);
	ndaemons++;
	logfd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		tap_bail("open %s: %s", d->log, strerror(errno));

	argv[argc++] = (char *)bin;
	argv[argc++] = (char *)"--socket";
	argv[argc++] = d->socket;
	va_start(ap, arg);
	for (; arg && argc < MAX_ARGS; arg = va_arg(ap, const char *))
		argv[argc++] = (char *)arg;
	va_end(ap);
	argv[argc] = NULL;

	d->pid = harness_fork();
	if (d->pid == 0)
		exec_dmad(argv, logfd);
	close(logfd);

	end = harness_now_ms() + HARNESS_START_MS;
	while (!try_connect(d->socket)) {
		if (!harness_dmad_alive(d)) {
			dump_log(d);
			tap_bail("dmad exited during start-up (status %d)", decode(d->status));
		}
		if (harness_now_ms() > end) {
			dump_log(d);
			tap_bail("dmad did not accept connections on %s within %d ms", d->socket,
				 HARNESS_START_MS);
		}
		sleep_ms(20);
	}
	return d;
}

/* Does @path hold @needle? Reads at most the first 64 KiB. */
static bool file_has(const char *path, const char *needle)
{
	static char buf[64 << 10];
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return strstr(buf, needle) != NULL;
}

void harness_dmad_wait_ready(struct harness_dmad *d)
{
	int64_t end = harness_now_ms() + HARNESS_START_MS;

	while (!file_has(d->log, "ready on ")) {
		if (!harness_dmad_alive(d)) {
			dump_log(d);
			tap_bail("dmad exited during start-up (status %d)", decode(d->status));
		}
		if (harness_now_ms() > end) {
			dump_log(d);
			tap_bail("dmad did not say it was ready within %d ms", HARNESS_START_MS);
		}
		sleep_ms(20);
	}
}

bool harness_dmad_alive(struct harness_dmad *d)
{
	if (d->pid > 0 && waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
		tap_diag("dmad (pid %d) ended on its own: %s %d", d->pid,
			 WIFSIGNALED(d->status) ? "killed by signal" : "exit status",
			 WIFSIGNALED(d->status) ? WTERMSIG(d->status) : WEXITSTATUS(d->status));
		d->pid = 0;
	}
	return d->pid > 0;
}

int harness_dmad_stop(struct harness_dmad *d, int sig)
{
	int r;

	if (!harness_dmad_alive(d))
		return decode(d->status);
	kill(d->pid, sig);
	r = reap(d->pid, HARNESS_STOP_MS, &d->status);
	d->pid = 0;
	return r;
}

void harness_dmad_finish(struct harness_dmad *d)
{
	int r = harness_dmad_stop(d, SIGTERM);

	ok(r == 0, "dmad exits 0 on SIGTERM (%d)", r);
}

void harness_capture(int out_fd, int err_fd, char *out, size_t size, char *err, size_t esize,
		     int64_t end)
{
	struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
	size_t n[2] = {0, 0}, cap[2] = {size - 1, esize - 1};
	char *buf[2] = {out, err}, sink[512];

	while ((p[0].fd >= 0 || p[1].fd >= 0) && harness_now_ms() < end) {
		if (poll(p, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (n[i] < cap[i])
				r = read(p[i].fd, buf[i] + n[i], cap[i] - n[i]);
			else
				r = read(p[i].fd, sink, sizeof(sink));
			if (r <= 0)
				p[i].fd = -1;
			else if (n[i] < cap[i])
				n[i] += (size_t)r;
		}
	}
	out[n[0]] = '\0';
	err[n[1]] = '\0';
}

int harness_run(char *const argv[], char *out, size_t size, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	int po[2], pe[2], status, r;
	char err[4096];
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		if (dup2(po[1], STDOUT_FILENO) < 0 || dup2(pe[1], STDERR_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	harness_capture(po[0], pe[0], out, size, err, sizeof(err), end);
	close(po[0]);
	close(pe[0]);
	r = reap(pid, (int)(end > harness_now_ms() ? end - harness_now_ms() : 0), &status);

	for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
		tap_diag("%s stderr: %s", argv[0], line);
	return r;
}

struct jv *harness_status_json(const char *socket)
{
	static char out[1 << 16];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)"--json",
			(char *)"status",
			NULL};

	if (harness_run(argv, out, sizeof(out), 15000) != 0)
		return NULL;
	return jv_parse(out);
}
