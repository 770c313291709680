/* SPDX-License-Identifier: MIT */
/* The fd store of a stand-in service manager (sdstore.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sdstore.h"

void sds_open(struct sds *s)
{
	*s = (struct sds){0};
	sdt_path(s->notify, sizeof(s->notify), "notify");
	s->nfd = sdt_notify_bind(s->notify);
}

/* systemd's same_fd(): one open file description, by kcmp() if it can. */
static bool same_fd(int a, int b)
{
	struct stat x, y;
	long r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a, b);

	if (r >= 0)
		return r == 0;
	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino && fcntl(a, F_GETFL) == fcntl(b, F_GETFL);
}

static void keep(struct sds *s, const char *name, const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool dup = false;

		for (unsigned j = 0; j < s->n; j++)
			dup |= same_fd(fds[i], s->fds[j]);
		if (dup || s->n == SDS_MAX) {
			close(fds[i]);
			s->dropped++;
			continue;
		}
		s->fds[s->n] = fds[i];
		snprintf(s->names[s->n++], SDS_NAME, "%s", name);
	}
}

static void forget(struct sds *s, const char *name)
{
	for (unsigned i = 0; i < s->n;) {
		if (strcmp(s->names[i], name)) {
			i++;
			continue;
		}
		close(s->fds[i]);
		s->forgotten++;
		s->fds[i] = s->fds[--s->n];
		memcpy(s->names[i], s->names[s->n], SDS_NAME);
	}
}

const char *sds_hear(struct sds *s, int timeout_ms)
{
	int fds[8];
	unsigned n;
	const char *msg = sdt_notify_recv_fds(s->nfd, timeout_ms, fds, 8, &n);
	const char *name = msg ? sdt_value(msg, "FDNAME=") : NULL;

	if (msg && sdt_has_line(msg, "FDSTORE=1") && name)
		keep(s, name, fds, n);
	else
		for (unsigned i = 0; i < n; i++)
			close(fds[i]);
	if (msg && sdt_has_line(msg, "FDSTOREREMOVE=1") && name)
		forget(s, name);
	return msg;
}

void sds_start(struct sds *s, struct sdt_proc *p, const char *name, char *const argv[])
{
	static char env_notify[160], env_fds[32], env_names[SDS_MAX * SDS_NAME + 32];
	char *env[] = {env_notify, env_fds, env_names, "LISTEN_PID=", NULL};
	size_t at;

	snprintf(env_notify, sizeof(env_notify), "NOTIFY_SOCKET=%s", s->notify);
	snprintf(env_fds, sizeof(env_fds), "LISTEN_FDS=%u", s->n);
	at = (size_t)snprintf(env_names, sizeof(env_names), "LISTEN_FDNAMES=");
	for (unsigned i = 0; i < s->n; i++)
		at += (size_t)snprintf(env_names + at, sizeof(env_names) - at, "%s%s", i ? ":" : "",
				       s->names[i]);
	if (!s->n)
		env[1] = env[2] = env[3] = NULL;
	s->forgotten = 0;
	sdt_start_fds(p, name, argv, env, s->fds, s->n);
}

void sds_start_dmad(struct sds *s, struct sdt_proc *p, const char *name, const char *socket,
		    const char *const extra[])
{
	char *argv[16] = {(char *)harness_env("DMAD_BIN"),
			  "--socket",
			  (char *)socket,
			  "--engines",
			  "1",
			  "--fdstore"};
	unsigned n = 6;

	for (; extra && *extra && n < sizeof(argv) / sizeof(argv[0]) - 1; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	sds_start(s, p, name, argv);
}

void sds_hear_for(struct sds *s, int ms)
{
	int64_t end = harness_now_ms() + ms;

	while (harness_now_ms() < end)
		sds_hear(s, 10);
}

bool sds_ready(struct sds *s, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	const char *msg;

	while (harness_now_ms() < end)
		if ((msg = sds_hear(s, 100)) && sdt_has_line(msg, "READY=1"))
			return true;
	return false;
}

int sds_stop(struct sds *s, struct sdt_proc *p, int sig, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	int status = 0, code = -ETIMEDOUT;

	kill(p->pid, sig);
	while (harness_now_ms() < end) {
		if (sds_hear(s, 50))
			continue;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
			p->pid = 0;
			break;
		}
	}
	while (sds_hear(s, 0)) /* what it sent before it ended */
		;
	return code;
}

unsigned sds_count(const struct sds *s, const char *prefix)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->n; i++)
		n += !strncmp(s->names[i], prefix, strlen(prefix));
	return n;
}

bool sds_has(const struct sds *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

void sds_clear(struct sds *s)
{
	for (unsigned i = 0; i < s->n; i++)
		close(s->fds[i]);
	s->n = 0;
}
