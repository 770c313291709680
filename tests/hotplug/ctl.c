/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "harness.h"

#define MAX_ARGS 16

/* ARGS... (NULL-terminated) into @args from @at on; returns the count. */
static unsigned int collect(const char **args, unsigned int at, const char *arg, va_list ap)
{
	for (; arg && at < MAX_ARGS; arg = va_arg(ap, const char *))
		args[at++] = arg;
	args[at] = NULL;
	return at;
}

static int reap(pid_t pid, int64_t end)
{
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && harness_now_ms() < end)
		usleep(5000);
	if (r != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -ETIMEDOUT;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int run(struct ctl_out *o, const char *socket, int timeout_ms, const char *const *args)
{
	int64_t end = harness_now_ms() + timeout_ms;
	char *argv[MAX_ARGS + 4];
	unsigned int n = 0;
	int po[2], pe[2];
	pid_t pid;

	argv[n++] = (char *)harness_env("DMACTL_BIN");
	argv[n++] = (char *)"--socket";
	argv[n++] = (char *)socket;
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(po[1], STDOUT_FILENO) < 0 || dup2(pe[1], STDERR_FILENO) < 0)
			_exit(127);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	harness_capture(po[0], pe[0], o->out, sizeof(o->out), o->err, sizeof(o->err), end);
	close(po[0]);
	close(pe[0]);
	o->exit = reap(pid, end);
	return o->exit;
}

int ctl_run(struct ctl_out *o, const char *socket, int timeout_ms, const char *arg, ...)
{
	const char *args[MAX_ARGS + 1];
	va_list ap;

	va_start(ap, arg);
	collect(args, 0, arg, ap);
	va_end(ap);
	return run(o, socket, timeout_ms, args);
}

struct jv *ctl_json(const char *socket, int *ret_exit, const char *arg, ...)
{
	static struct ctl_out o;
	const char *args[MAX_ARGS + 1] = {"--json"};
	va_list ap;

	va_start(ap, arg);
	collect(args, 1, arg, ap);
	va_end(ap);
	*ret_exit = run(&o, socket, 30000, args);
	if (o.exit)
		tap_diag("dmactl --json %s %s: exit %d: %s", args[1] ? args[1] : "",
			 args[1] && args[2] ? args[2] : "", o.exit, o.err);
	return o.exit ? NULL : jv_parse(o.out);
}

void ctl_bg_start(struct ctl_bg *b, const char *socket, int timeout_ms, const char *arg, ...)
{
	const char *args[MAX_ARGS + 1];
	va_list ap;
	int p[2];

	va_start(ap, arg);
	collect(args, 0, arg, ap);
	va_end(ap);
	if (pipe2(p, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	b->pid = harness_fork();
	if (b->pid == 0) {
		static struct ctl_out o;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		run(&o, socket, timeout_ms, args);
		_exit(write(p[1], &o, sizeof(o)) == (ssize_t)sizeof(o) ? 0 : 1);
	}
	close(p[1]);
	b->fd = p[0];
}

int ctl_bg_wait(struct ctl_bg *b, struct ctl_out *o)
{
	size_t n = 0;
	ssize_t r;

	/* Read before reaping: the report is bigger than a pipe may hold. */
	while (n < sizeof(*o) && (r = read(b->fd, (char *)o + n, sizeof(*o) - n)) > 0)
		n += (size_t)r;
	close(b->fd);
	harness_wait_child(b->pid, 5000, "dmactl runner");
	if (n != sizeof(*o)) {
		memset(o, 0, sizeof(*o));
		o->exit = -ECHILD;
	}
	return o->exit;
}

const struct jv *status_dev(const struct jv *root, const char *name)
{
	const struct jv *d;

	for (size_t i = 0; (d = jv_at(jv_get(root, "devices"), i)); i++)
		if (!strcmp(jv_str(jv_get(d, "name"), ""), name))
			return d;
	return NULL;
}

const struct jv *status_released(const struct jv *root, const char *name)
{
	const struct jv *d;

	for (size_t i = 0; (d = jv_at(jv_get(root, "released"), i)); i++)
		if (!strcmp(jv_str(jv_get(d, "name"), ""), name))
			return d;
	return NULL;
}

const char *status_dev_state(const struct jv *root, const char *name)
{
	const struct jv *d = status_dev(root, name);

	return jv_str(jv_get(d ? d : status_released(root, name), "state"), "");
}

double status_total_ops(const struct jv *root)
{
	return jv_num(jv_get(jv_get(root, "totals"), "ops"), -1);
}

const char *status_chan_dev(const struct jv *root, const char *client)
{
	const struct jv *c, *ch;
	double id = -1;

	for (size_t i = 0; (c = jv_at(jv_get(root, "clients"), i)); i++)
		if (!strcmp(jv_str(jv_get(c, "name"), ""), client))
			id = jv_num(jv_get(c, "id"), -1);
	for (size_t i = 0; id >= 0 && (ch = jv_at(jv_get(root, "channels"), i)); i++)
		if (jv_num(jv_get(ch, "client"), -2) == id)
			return jv_str(jv_get(ch, "device"), "");
	return NULL;
}

bool status_wait_dev(const char *socket, const char *dev, const char *state, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;
	bool seen = false;
	struct jv *st;
	int r;

	/* At least one look, however short the timeout. */
	for (;;) {
		st = ctl_json(socket, &r, "status", NULL);
		if (st)
			seen = state ? !strcmp(status_dev_state(st, dev), state)
				     : !status_dev(st, dev);
		jv_free(st);
		if (seen || harness_now_ms() >= end)
			return seen;
		usleep(20000);
	}
}
