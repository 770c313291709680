/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "rawproto.h"
#include "sdtest.h"

#define MAX_PROCS 128 /* a crash test's dmads (CRASH_COUNT up to 16; two for each request case), and its own */

static struct sdt_proc *procs[MAX_PROCS];
static unsigned nprocs;
static char dir[64];
static pid_t owner;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	if (getpid() != owner)
		return;
	for (unsigned i = 0; i < nprocs; i++) {
		if (procs[i]->pid > 0) {
			tap_diag("%s (pid %d) still running at exit: killing it", procs[i]->log,
				 procs[i]->pid);
			sdt_stop(procs[i], SIGKILL, 5000);
		}
		if (tap_failed())
			sdt_dump_log(procs[i]);
	}
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *sdt_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (dir[0])
		return dir;
	/* sun_path is 108 bytes: a long $TMPDIR would not fit. */
	if (!tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/dmad-sd.XXXXXX", tmp);
	if (!mkdtemp(dir))
		tap_bail("mkdtemp %s: %s", dir, strerror(errno));
	owner = getpid();
	atexit(cleanup);
	return dir;
}

char *sdt_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", sdt_dir(), name);
	return buf;
}

static void child_env(char *const env[])
{
	static const char *const manager[] = {"NOTIFY_SOCKET",	"LISTEN_FDS",	 "LISTEN_PID",
					      "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID",
					      "JOURNAL_STREAM"};
	char name[64], pid[16];

	for (size_t i = 0; i < sizeof(manager) / sizeof(manager[0]); i++)
		unsetenv(manager[i]);
	for (; env && *env; env++) {
		const char *eq = strchr(*env, '=');

		if (!eq || (size_t)(eq - *env) >= sizeof(name))
			_exit(127);
		memcpy(name, *env, (size_t)(eq - *env));
		name[eq - *env] = '\0';
		if (!strcmp(*env, "WATCHDOG_PID=") || !strcmp(*env, "LISTEN_PID=")) {
			snprintf(pid, sizeof(pid), "%d", (int)getpid());
			setenv(name, pid, 1);
		} else if (!eq[1]) {
			unsetenv(name);
		} else {
			setenv(name, eq + 1, 1);
		}
	}
}

/* @fds at 3, 4, ... as systemd passes them: moved out of the way first. */
static void place_fds(const int *fds, unsigned n)
{
	int high[256];

	if (n > 256)
		_exit(127);
	for (unsigned i = 0; i < n; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 1024)) < 0)
			_exit(127);
	for (unsigned i = 0; i < n; i++)
		if (dup2(high[i], 3 + (int)i) < 0) /* without FD_CLOEXEC */
			_exit(127);
}

void sdt_start(struct sdt_proc *p, const char *name, char *const argv[], char *const env[])
{
	sdt_start_fds(p, name, argv, env, NULL, 0);
}

void sdt_start_fds(struct sdt_proc *p, const char *name, char *const argv[], char *const env[],
		   const int *fds, unsigned nfds)
{
	int logfd, nullfd;

	sdt_dir();
	if (nprocs == MAX_PROCS)
		tap_bail("sdtest: more than %d processes", MAX_PROCS);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
	logfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0)
		tap_bail("open %s: %s", p->log, strerror(errno));
	procs[nprocs++] = p;
	p->pid = harness_fork();
	if (p->pid == 0) {
		/* Never outlive the test, even if it is killed with SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != owner)
			_exit(127);
		child_env(env);
		if (dup2(nullfd, STDIN_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
		    dup2(logfd, STDERR_FILENO) < 0)
			_exit(127);
		place_fds(fds, nfds);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "sdtest: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	close(nullfd);
}

static int decode(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? -WTERMSIG(status) : -ECHILD;
}

bool sdt_alive(struct sdt_proc *p)
{
	int status;

	if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
		tap_diag("%s: process %d ended on its own (%d)", p->log, p->pid, decode(status));
		p->pid = 0;
	}
	return p->pid > 0;
}

int sdt_stop(struct sdt_proc *p, int sig, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	int status = 0;
	pid_t r;

	if (p->pid <= 0)
		return -ECHILD;
	if (sig)
		kill(p->pid, sig);
	while ((r = waitpid(p->pid, &status, WNOHANG)) == 0 && harness_now_ms() < end)
		usleep(5000);
	if (r != p->pid) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
		p->pid = 0;
		return -ETIMEDOUT;
	}
	p->pid = 0;
	return decode(status);
}

void sdt_dump_log(const struct sdt_proc *p)
{
	char line[1024];
	FILE *f = fopen(p->log, "re");

	if (!f)
		return;
	tap_diag("---- %s ----", p->log);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tap_diag("| %s", line);
	}
	tap_diag("---- end ----");
	fclose(f);
}

bool sdt_log_has(const struct sdt_proc *p, const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(p->log, "re");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

bool sdt_wait_connect(const char *path, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	int fd;

	while ((fd = raw_connect(path)) < 0) {
		if (harness_now_ms() > end)
			return false;
		usleep(20000);
	}
	close(fd);
	return true;
}

int sdt_notify_bind(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		tap_bail("cannot bind %s: %s", path, strerror(errno));
	return fd;
}

const char *sdt_notify_recv(int fd, int timeout_ms)
{
	static char buf[4096];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return NULL;
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

const char *sdt_notify_recv_fds(int fd, int timeout_ms, int *fds, unsigned max, unsigned *ret_n)
{
	static char buf[4096];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 253)];
	} cm;
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm, .msg_controllen = sizeof(cm)};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	*ret_n = 0;
	if (poll(&p, 1, timeout_ms) <= 0)
		return NULL;
	n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int got[253];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (unsigned i = 0; i < k; i++) {
			if (*ret_n < max)
				fds[(*ret_n)++] = got[i];
			else
				close(got[i]);
		}
	}
	return buf;
}

bool sdt_has_line(const char *msg, const char *line)
{
	size_t len = strlen(line);
	bool prefix = len && line[len - 1] == '=';

	for (const char *s = msg; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		size_t n = strcspn(s, "\n");

		if (prefix ? !strncmp(s, line, len) : (n == len && !strncmp(s, line, len)))
			return true;
	}
	return false;
}

const char *sdt_value(const char *msg, const char *key)
{
	static char val[512];
	size_t klen = strlen(key);

	for (const char *s = msg; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		size_t n = strcspn(s, "\n");

		if (n >= klen && !strncmp(s, key, klen)) {
			snprintf(val, sizeof(val), "%.*s", (int)(n - klen), s + klen);
			return val;
		}
	}
	return NULL;
}
