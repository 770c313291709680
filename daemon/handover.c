/* SPDX-License-Identifier: MIT */
/*
 * How one dmad becomes the next: exec in place. The PID stays (systemd's
 * main PID, a supervisor's child), every fd the state names is inherited,
 * and the command line is the one dmad was started with plus
 * --takeover-fd=N.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handover.h"
#include "log.h"

#define TAKEOVER_OPT "--takeover-fd="

static char exe[4096];
static char **args; /* argv as given, without an earlier --takeover-fd= */
static int nargs;

int handover_init(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *deleted;

	/* An upgrade replaced the file: the new one is at the same path. */
	exe[n > 0 ? n : 0] = '\0';
	deleted = strstr(exe, " (deleted)");
	if (deleted && !deleted[sizeof(" (deleted)") - 1])
		*deleted = '\0';
	args = calloc((size_t)argc + 2, sizeof(*args));
	if (!args)
		return -ENOMEM;
	for (int i = 0; i < argc; i++)
		if (i == 0 || strncmp(argv[i], TAKEOVER_OPT, sizeof(TAKEOVER_OPT) - 1))
			args[nargs++] = argv[i];
	return 0;
}

bool handover_possible(void)
{
	if (!exe[0] || access(exe, X_OK) < 0) {
		log_error("cannot restart: dmad's binary %s is not there to exec", exe);
		return false;
	}
	return true;
}

void handover_exec(int state_fd)
{
	char opt[sizeof(TAKEOVER_OPT) + 16];
	char **argv = calloc((size_t)nargs + 2, sizeof(*argv));

	if (!argv) {
		log_error("cannot restart: out of memory");
		return;
	}
	snprintf(opt, sizeof(opt), TAKEOVER_OPT "%d", state_fd);
	/* Right after the program's name: before any "--" that starts EAL's. */
	argv[0] = args[0];
	argv[1] = opt;
	for (int i = 1; i < nargs; i++)
		argv[i + 1] = args[i];
	log_info("restarting: exec %s", exe);
	execv(exe, argv);
	log_error_errno(-errno, "cannot exec %s: %m", exe);
	free(argv);
}
