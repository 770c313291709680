/* SPDX-License-Identifier: MIT */
/*
 * What a process holds, read from /proc: open fds, mappings, resident
 * memory. Hostile and soak tests compare the daemon's before and after.
 */
#ifndef TESTS_PROCSTAT_H
#define TESTS_PROCSTAT_H

#include <sys/types.h>

struct procstat {
	int fds;       /* entries in /proc/PID/fd */
	int maps;      /* lines in /proc/PID/maps */
	long rss_kib;  /* VmRSS */
	long anon_kib; /* RssAnon: VmRSS less files and shared memory (regions, rings) */
};

/* 0, or -errno when the process is gone or /proc cannot be read. */
int procstat_read(pid_t pid, struct procstat *ret);

#endif /* TESTS_PROCSTAT_H */
