/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "closer.h"
#include "log.h"

/* The fds waiting: each still open, so its number is not reused meanwhile.
 * While a flush is held, the rest wait, bounded by dmad's fd limit. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	int *fds;
	size_t n, cap;
	bool running;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER};

static void *closer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q.lock);
	for (;;) {
		int fd;

		while (!q.n)
			pthread_cond_wait(&q.more, &q.lock);
		fd = q.fds[--q.n];
		pthread_mutex_unlock(&q.lock);
		close(fd);
		pthread_mutex_lock(&q.lock);
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

void closer_close(int fd)
{
	pthread_mutex_lock(&q.lock);
	if (q.running && room()) {
		q.fds[q.n++] = fd;
		pthread_cond_signal(&q.more);
		fd = -1;
	}
	pthread_mutex_unlock(&q.lock);
	if (fd >= 0)
		close(fd);
}
