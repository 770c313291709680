/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "procstat.h"

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	int n = 0, c;

	if (!f)
		return -errno;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* The line of /proc/PID/status that @fmt ("VmRSS: %ld kB") reads, in KiB. */
static long status_kib(pid_t pid, const char *fmt)
{
	char path[64], line[256];
	long kib = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int procstat_read(pid_t pid, struct procstat *ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	ret->fds = count_fds(pid);
	ret->maps = count_lines(path);
	ret->rss_kib = status_kib(pid, "VmRSS: %ld kB");
	ret->anon_kib = status_kib(pid, "RssAnon: %ld kB");
	if (ret->fds < 0)
		return ret->fds;
	if (ret->maps < 0)
		return ret->maps;
	if (ret->anon_kib < 0)
		return (int)ret->anon_kib;
	return ret->rss_kib < 0 ? (int)ret->rss_kib : 0;
}
