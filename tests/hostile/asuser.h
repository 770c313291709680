/* SPDX-License-Identifier: MIT */
/*
 * Acting as another local user, with real credentials: what SO_PEERCRED
 * and SO_PEERGROUPS report is then what the kernel says, not a test's
 * claim. Needs root (tests skip without it).
 */
#ifndef TESTS_ASUSER_H
#define TESTS_ASUSER_H

#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

#define ASUSER_NOBODY	  65534
#define ASUSER_GROUPS_MAX 4

struct asuser {
	const char *what; /* for messages: "nobody, no groups" */
	uid_t uid;
	gid_t gid; /* primary */
	unsigned ngroups;
	gid_t groups[ASUSER_GROUPS_MAX]; /* supplementary */
};

/*
 * asuser_fork() - fork; the child drops to @u (supplementary groups, then
 * gid, then uid, real and effective alike) and gets 0, or _exit(100)s if
 * it cannot. The parent gets the child's pid.
 */
pid_t asuser_fork(const struct asuser *u);

/*
 * asuser_run() - harness_run() of @argv as @u, through setpriv(1).
 * Returns what harness_run() does, or -ENOENT when setpriv is missing.
 */
int asuser_run(const struct asuser *u, char *const argv[], char *out, size_t size, int timeout_ms);

/* A gid no group on this host has, for an admin group nobody else is in. */
gid_t asuser_unused_gid(void);

/* Let every user reach @d's socket (its directory 0711, the socket 0666):
 * dmad's own checks are what the tests are about, not the file mode. */
void asuser_open_socket(const struct harness_dmad *d);

#endif /* TESTS_ASUSER_H */
