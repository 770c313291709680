/* SPDX-License-Identifier: MIT */
/*
 * The handover state and its fds into the service manager's fd store, and
 * back out of it (handover_fdstore.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "handover_fdstore.h"
#include "handover_live.h"
#include "handover_state.h"
#include "log.h"

#define STATE_NAME "dmad-state"
#define FD_PREFIX  "dmad-fd-"
#define STORE	   "FDSTORE=1\nFDPOLL=0\nFDNAME="

bool handover_fdstore_usable(void)
{
	return dmad.cfg.fdstore && getenv("NOTIFY_SOCKET");
}

static int store(int fd, const char *name)
{
	char msg[sizeof(STORE) + 32];
	int ret;

	snprintf(msg, sizeof(msg), STORE "%s", name);
	ret = sd_pid_notify_with_fds(0, false, msg, &fd, 1);
	return ret > 0 ? 0 : ret < 0 ? ret : -ENOTCONN;
}

/* The state as handover_save() wrote it: its fd table. */
static int read_state(int fd, void **ret_buf, struct handover_view *v)
{
	const char *why = NULL;
	size_t len = 0;
	void *buf;
	int ret = handover_state_read(fd, &buf, &len);

	if (ret < 0)
		return ret;
	ret = handover_state_parse(buf, len, v, &why);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*ret_buf = buf;
	return 0;
}

struct file_id {
	dev_t dev;
	ino_t ino;
	uint32_t entry;
};

static int cmp_file(const void *a, const void *b)
{
	const struct file_id *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

/*
 * The store keeps one of several fds of the same file (sd_notify(3)): a
 * memfd that two regions share (one client's twice, or two clients') would
 * leave a hole in the table. Marks each entry whose file an earlier one
 * has; NULL when out of memory.
 */
static bool *repeated(const struct handover_view *v)
{
	struct file_id *ids = calloc(v->h->nfds + 1, sizeof(*ids));
	bool *again = calloc(v->h->nfds + 1, sizeof(*again));
	struct stat st;

	if (!ids || !again) {
		free(ids);
		free(again);
		return NULL;
	}
	for (uint32_t i = 0; i < v->h->nfds; i++) {
		/* Memfds only: every eventfd, BPF object and the like shares one
		 * anonymous inode, but the store tells them apart. */
		if (fstat(v->fds[i].fd, &st) < 0 || !S_ISREG(st.st_mode))
			st = (struct stat){0};
		ids[i] = (struct file_id){st.st_dev, st.st_ino, i};
	}
	qsort(ids, v->h->nfds, sizeof(*ids), cmp_file);
	for (uint32_t i = 1; i < v->h->nfds; i++)
		again[ids[i].entry] =
			ids[i].ino && ids[i].dev == ids[i - 1].dev && ids[i].ino == ids[i - 1].ino;
	free(ids);
	return again;
}

/* Another open file description of @fd's memfd: one the store keeps too. */
static int reopen(int fd)
{
	char path[32];
	int fl = fcntl(fd, F_GETFL);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = fl < 0 ? -1 : open(path, (fl & O_ACCMODE) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int store_entries(const struct handover_view *v)
{
	bool *again = repeated(v);
	char name[32];
	int ret = again ? 0 : -ENOMEM;

	for (uint32_t i = 0; ret == 0 && i < v->h->nfds; i++) {
		int fd = again[i] ? reopen(v->fds[i].fd) : v->fds[i].fd;

		snprintf(name, sizeof(name), FD_PREFIX "%u", i);
		ret = fd < 0 ? fd : store(fd, name);
		if (again[i] && fd >= 0)
			close(fd);
	}
	free(again);
	return ret;
}

int handover_fdstore_send(int state_fd)
{
	struct handover_view v;
	void *buf = NULL;
	int ret = read_state(state_fd, &buf, &v);

	if (ret < 0)
		return log_error_errno(ret, "cannot read back the handover state: %m");
	ret = store(state_fd, STATE_NAME);
	if (ret == 0)
		ret = store_entries(&v);
	if (ret < 0)
		log_error_errno(ret, "cannot hand the sessions to the fd store: %m");
	else
		log_info("handed the state and %u fds to the fd store", v.h->nfds);
	free(buf);
	return ret;
}

/* Entry N of "dmad-fd-N", or -1. */
static long table_index(const char *name)
{
	const char *s = name + sizeof(FD_PREFIX) - 1;
	char *end;
	unsigned long i;

	if (strncmp(name, FD_PREFIX, sizeof(FD_PREFIX) - 1) || *s < '0' || *s > '9')
		return -1;
	i = strtoul(s, &end, 10);
	return *end || i >= HANDOVER_MAX_LEN / sizeof(struct handover_fd) ? -1 : (long)i;
}

static bool ours(const char *name)
{
	return !strcmp(name, STATE_NAME) || table_index(name) >= 0 || handover_live_ours(name);
}

static void free_names(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* The store's copies go: a dmad that crashes later must not replay them. */
static void forget(char **names, int n)
{
	for (int i = 0; i < n; i++) {
		bool again = false;

		for (int j = 0; j < i; j++)
			again |= !strcmp(names[i], names[j]);
		if (ours(names[i]) && !again)
			sd_notifyf(0, "FDSTOREREMOVE=1\nFDNAME=%s", names[i]);
	}
}

int handover_fdstore_take(int *ret_state_fd, int32_t **ret_map, uint32_t *ret_n)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(0, &names);
	uint32_t nmap = 0, taken = 0;
	bool planned = false;
	int32_t *map;
	int crashed;

	for (int i = 0; i < n; i++) {
		long idx = table_index(names[i]);

		planned |= !strcmp(names[i], STATE_NAME);
		taken += ours(names[i]);
		if (idx >= 0 && (uint32_t)idx >= nmap)
			nmap = (uint32_t)idx + 1;
	}
	if (!taken) {
		free_names(names, n);
		return 0;
	}
	map = malloc(((size_t)nmap + 1) * sizeof(*map));
	if (!map) {
		free_names(names, n);
		return log_error_errno(-ENOMEM, "cannot take the fd store back: out of memory");
	}
	*ret_state_fd = -1;
	for (uint32_t i = 0; i < nmap; i++)
		map[i] = -1;
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		long idx = table_index(names[i]);

		/* As if inherited across exec: what the state does not name is
		 * closed (handover_read()), but a control socket if it is refused. */
		fcntl(fd, F_SETFD, 0);
		if (!strcmp(names[i], STATE_NAME) && *ret_state_fd < 0)
			*ret_state_fd = fd;
		else if (idx >= 0 && map[idx] < 0)
			map[idx] = fd;
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	/* No planned handover: a crash, if a session journal came. Its names
	 * stay in the store until this dmad's own journal names every session. */
	crashed = planned ? 0 : handover_live_take(names, n, ret_state_fd, ret_map, ret_n);
	if (crashed > 0) {
		free(map);
		map = *ret_map;
		nmap = *ret_n;
	} else {
		forget(names, n);
	}
	log_info("taking the sessions back from the fd store: %u of %d passed fds", taken, n);
	free_names(names, n);
	*ret_map = map;
	*ret_n = nmap;
	return 1;
}
