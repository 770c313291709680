/* SPDX-License-Identifier: MIT */
/*
 * A dmad of the bench's own: started on a socket in a fresh temporary
 * directory, its output kept in a log shown only when something went wrong.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "bench.h"

#define START_TIMEOUT_NS (20ull * 1000000000ull)
#define STOP_TIMEOUT_NS	 (10ull * 1000000000ull)

struct daemon {
	pid_t pid;
	char dir[64];
	char sock[96];
	char log[96];
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static void show_log(const struct daemon *d)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", d->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

/* Listening is the sign of readiness: dmad binds after its engines are up. */
static bool listening(const char *path)
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

static void exec_child(const struct daemon *d, char *const argv[])
{
	int fd;

	/* Don't outlive a bench that crashed. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void cleanup(struct daemon *d)
{
	unlink(d->sock);
	unlink(d->log);
	rmdir(d->dir);
	free(d);
}

int daemon_start(const char *exe, char *const extra_args[], struct daemon **ret_daemon)
{
	struct daemon *d = calloc(1, sizeof(*d));
	uint64_t deadline = now_ns() + START_TIMEOUT_NS;
	size_t n_extra = 0;
	char **argv;
	int status;

	while (extra_args[n_extra])
		n_extra++;
	argv = calloc(n_extra + 4, sizeof(*argv));
	if (!d || !argv) {
		free(argv);
		free(d);
		return -ENOMEM;
	}
	snprintf(d->dir, sizeof(d->dir), "/tmp/dmad-bench.XXXXXX");
	if (!mkdtemp(d->dir)) {
		free(argv);
		free(d);
		return -errno;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/dmad.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/dmad.log", d->dir);
	argv[0] = (char *)exe;
	argv[1] = "--socket";
	argv[2] = d->sock;
	memcpy(argv + 3, extra_args, n_extra * sizeof(*argv));

	fflush(NULL);
	d->pid = fork();
	if (d->pid == 0)
		exec_child(d, argv);
	if (d->pid < 0) {
		int r = -errno;

		free(argv);
		cleanup(d);
		return r;
	}
	free(argv);

	while (!listening(d->sock)) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "dmad-bench: %s exited before it listened\n", exe);
			show_log(d);
			cleanup(d);
			return -ECHILD;
		}
		if (now_ns() > deadline) {
			fprintf(stderr, "dmad-bench: %s did not listen on %s within %llu s\n", exe,
				d->sock, START_TIMEOUT_NS / 1000000000ull);
			show_log(d);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			cleanup(d);
			return -ETIMEDOUT;
		}
		sleep_ms(20);
	}
	*ret_daemon = d;
	return 0;
}

const char *daemon_socket(const struct daemon *d)
{
	return d->sock;
}

pid_t daemon_pid(const struct daemon *d)
{
	return d->pid;
}

/* SIGTERM, as systemd stops it; SIGKILL if it does not go. */
void daemon_stop(struct daemon *d)
{
	uint64_t deadline = now_ns() + STOP_TIMEOUT_NS;
	int status = 0;

	if (!d)
		return;
	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			fprintf(stderr, "dmad-bench: dmad ignored SIGTERM, killing it\n");
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		sleep_ms(10);
	}
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)) {
		fprintf(stderr, "dmad-bench: dmad did not exit cleanly (status 0x%x)\n", status);
		show_log(d);
	}
	cleanup(d);
}
