/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "closer.h"
#include "log.h"

/* The fds waiting, in order: each still open, so its number is not reused
 * meanwhile. While a flush is held, the rest wait; their senders are not
 * read meanwhile (closer_done()), which bounds them. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	int *fds;
	size_t head, n, cap;
	uint64_t queued, closed; /* tickets: fds handed over, fds closed */
	bool running;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER};

static void *closer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q.lock);
	for (;;) {
		int fd;

		while (q.head == q.n)
			pthread_cond_wait(&q.more, &q.lock);
		fd = q.fds[q.head++];
		if (q.head == q.n)
			q.head = q.n = 0;
		pthread_mutex_unlock(&q.lock);
		close(fd);
		pthread_mutex_lock(&q.lock);
		q.closed++;
	}
	return NULL;
}

int closer_start(void)
{
	pthread_t t;
	int ret = -pthread_create(&t, NULL, closer_main, NULL);

	if (ret < 0)
		return log_error_errno(ret, "cannot start the thread that closes clients' fds: %m");
	pthread_setname_np(t, "dmad-closer");
	pthread_detach(t);
	pthread_mutex_lock(&q.lock);
	q.running = true;
	pthread_mutex_unlock(&q.lock);
	return 0;
}

/* Room for one more; with q.lock held. */
static bool room(void)
{
	size_t cap = q.cap ? 2 * q.cap : 64;
	int *fds;

	if (q.n < q.cap)
		return true;
	fds = realloc(q.fds, cap * sizeof(*fds));
	if (!fds)
		return false;
	q.fds = fds;
	q.cap = cap;
	return true;
}

/* Files with no flush to call: closing them waits for no one. */
static bool closes_at_once(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch (sf.f_type) {
	case TMPFS_MAGIC: /* memfd */
	case HUGETLBFS_MAGIC:
	case ANON_INODE_FS_MAGIC: /* eventfd */
	case SOCKFS_MAGIC:
	case PIPEFS_MAGIC:
		return true;
	default:
		return false;
	}
}

uint64_t closer_close(int fd)
{
	uint64_t ticket = 0;

	if (closes_at_once(fd)) {
		close(fd);
		return 0;
	}
	pthread_mutex_lock(&q.lock);
	if (q.running && room()) {
		q.fds[q.n++] = fd;
		ticket = ++q.queued;
		pthread_cond_signal(&q.more);
		fd = -1;
	}
	pthread_mutex_unlock(&q.lock);
	if (fd >= 0)
		close(fd);
	return ticket;
}

bool closer_done(uint64_t ticket)
{
	bool done;

	pthread_mutex_lock(&q.lock);
	done = q.closed >= ticket;
	pthread_mutex_unlock(&q.lock);
	return done;
}
