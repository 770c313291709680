/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asuser.h"

#define ARGS_MAX 24

pid_t asuser_fork(const struct asuser *u)
{
	pid_t pid = harness_fork();

	if (pid == 0 &&
	    (setgroups(u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	     setresuid(u->uid, u->uid, u->uid) < 0))
		_exit(100);
	return pid;
}

static const char *setpriv_path(void)
{
	static const char *const paths[] = {"/usr/bin/setpriv", "/bin/setpriv"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int asuser_run(const struct asuser *u, char *const argv[], char *out, size_t size, int timeout_ms)
{
	char uid[32], gid[32], groups[16 * ASUSER_GROUPS_MAX + 16];
	char *args[ARGS_MAX];
	unsigned n = 0, k = 0;

	args[n++] = (char *)setpriv_path();
	if (!args[0])
		return -ENOENT;
	snprintf(uid, sizeof(uid), "--reuid=%u", (unsigned)u->uid);
	snprintf(gid, sizeof(gid), "--regid=%u", (unsigned)u->gid);
	if (!u->ngroups) {
		snprintf(groups, sizeof(groups), "--clear-groups");
	} else {
		k = (unsigned)snprintf(groups, sizeof(groups), "--groups=");
		for (unsigned i = 0; i < u->ngroups; i++)
			k += (unsigned)snprintf(groups + k, sizeof(groups) - k, "%s%u",
						i ? "," : "", (unsigned)u->groups[i]);
	}
	args[n++] = uid;
	args[n++] = gid;
	args[n++] = groups;
	args[n++] = (char *)"--";
	for (unsigned i = 0; argv[i] && n < ARGS_MAX - 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return harness_run(args, out, size, timeout_ms);
}

gid_t asuser_unused_gid(void)
{
	gid_t gid = 47000;

	while (getgrgid(gid))
		gid++;
	return gid;
}

void asuser_open_socket(const struct harness_dmad *d)
{
	if (chmod(d->dir, 0711) < 0 || chmod(d->socket, 0666) < 0)
		tap_bail("opening %s to every user: %s", d->socket, strerror(errno));
}
