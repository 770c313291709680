/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "eal.h"
#include "log.h"
#include "log_dpdk.h"

#define MAX_ARGS 256

static bool has_opt(char **argv, const char *const *names)
{
	for (; argv && *argv; argv++)
		for (const char *const *n = names; *n; n++)
			if (!strncmp(*argv, *n, strlen(*n)))
				return true;
	return false;
}

/* "(0-N)@(a,b,c)": every lcore may run on every CPU we are allowed. */
static int lcore_map(char *buf, size_t size, unsigned workers)
{
	cpu_set_t set;
	size_t off;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	off = (size_t)snprintf(buf, size, "(0-%u)@(", workers);
	for (cpu = 0; cpu < CPU_SETSIZE && off < size; cpu++)
		if (CPU_ISSET(cpu, &set))
			off += (size_t)snprintf(buf + off, size - off, "%d,", cpu);
	if (off >= size)
		return -ENAMETOOLONG;
	buf[off - 1] = ')';
	return 0;
}

/* Where EAL's telemetry socket goes under @dir (file prefix "rte"). */
#define TELEMETRY_SOCKET "/dpdk/rte/dpdk_telemetry.v2"

/*
 * EAL puts its runtime files, the telemetry socket among them, under
 * $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=); else under
 * $XDG_RUNTIME_DIR or /tmp, where every dmad would share one socket and
 * the second would not start. So without it, dmad's own runtime directory
 * is the one its control socket is in. Returns false when the socket's
 * path would not fit, or for no @dir (tests in one process): then EAL runs
 * without telemetry.
 */
static bool runtime_dir(const char *dir)
{
	const char *env = getenv("RUNTIME_DIRECTORY");

	if (!dir)
		return false;
	if (!env || !*env) {
		setenv("RUNTIME_DIRECTORY", dir, 1);
		env = dir;
	}
	if (strlen(env) + strlen(TELEMETRY_SOCKET) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		log_notice("DPDK telemetry is off: its socket under %s would not fit a socket path",
			   env);
		return false;
	}
	return true;
}

int eal_start(const char *prog, unsigned workers, unsigned engines, const char *dir,
	      char **user_argv)
{
	static const char *const devs[] = {"-a", "--allow", "--vdev", "-b", "--block", NULL};
	static const char *const pci[] = {"-a", "--allow", "-b", "--block", NULL};
	static const char *const lcores[] = {"-l", "-c", "--lcores", NULL};
	static char lmap[1024], vdev[16][32];
	char *argv[MAX_ARGS];
	int argc = 0, ret;

	argv[argc++] = (char *)prog;
	argv[argc++] = "--no-huge";
	argv[argc++] = "--no-shconf";
	if (!runtime_dir(dir))
		argv[argc++] = "--no-telemetry";
	argv[argc++] = "--iova-mode=va";
	argv[argc++] = "--log-level=lib.eal:warning";
	if (!has_opt(user_argv, pci))
		argv[argc++] = "--no-pci";
	if (!has_opt(user_argv, lcores)) {
		ret = lcore_map(lmap, sizeof(lmap), workers);
		if (ret < 0)
			return log_error_errno(ret, "cannot build the lcore map: %m");
		argv[argc++] = "--lcores";
		argv[argc++] = lmap;
	}
	if (!has_opt(user_argv, devs)) {
		for (unsigned i = 0; i < engines && i < 16; i++) {
			snprintf(vdev[i], sizeof(vdev[i]), "dma_skeleton%u", i);
			argv[argc++] = "--vdev";
			argv[argc++] = vdev[i];
		}
	}
	for (char **a = user_argv; a && *a; a++) {
		if (argc >= MAX_ARGS - 1)
			return log_error_errno(-E2BIG, "too many EAL options");
		argv[argc++] = *a;
	}
	argv[argc] = NULL;

	ret = log_dpdk_init();
	if (ret < 0)
		return log_error_errno(ret, "cannot route DPDK's log: %m");
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		return log_error_errno(-rte_errno, "cannot start DPDK EAL: %m");
	return 0;
}

void eal_stop(void)
{
	char run[PATH_MAX], path[PATH_MAX + 32], *slash;

	snprintf(run, sizeof(run), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	/* EAL leaves its telemetry sockets until exit, and its directories for
	 * good: remove them, unless another process still uses them. */
	snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", run);
	unlink(path);
	snprintf(path, sizeof(path), "%s/telemetry", run);
	unlink(path);
	if (rmdir(run) == 0 && (slash = strrchr(run, '/'))) {
		*slash = '\0';
		rmdir(run);
	}
}
