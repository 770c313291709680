/* SPDX-License-Identifier: MIT */
/*
 * How a client that only polls its ring learns that dmad died, with no
 * system call on its fast path: a page every client maps read-only (HELLO
 * hands it out) holds a process-shared robust mutex that the main thread
 * locks at start and never releases. When dmad's threads end, by exit,
 * crash or SIGKILL alike, the kernel walks their robust-futex lists and
 * marks the mutex's word: owner id cleared, FUTEX_OWNER_DIED set.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmad_proto.h"
#include "life.h"
#include "log.h"

/* Clients read the futex word at offset 0 of the page. */
_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == 0, "mutex word first");
_Static_assert(sizeof(pthread_mutex_t) <= DMAD_PROTO_LIFE_HANDOVER_OFF, "mutex before the word");

static int life_fd_ = -1;
static void *life_page;

int life_init(void)
{
	pthread_mutexattr_t a;
	pthread_mutex_t *m;
	int fd, r;

	fd = memfd_create("dmad-life", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, DMAD_PROTO_LIFE_SIZE) < 0)
		goto fail_errno;
	m = mmap(NULL, DMAD_PROTO_LIFE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail_errno;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	r = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	if (!r)
		r = pthread_mutex_lock(m);
	if (r) {
		close(fd);
		return log_error_errno(-r, "cannot set up the liveness page: %m");
	}
	/* Our writable mapping stays; clients can only ever map it read-only,
	 * so none can forge another's view of whether dmad lives. */
	if (fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		goto fail_errno;
	life_fd_ = fd;
	life_page = m;
	return 0;

fail_errno:
	r = -errno;
	if (fd >= 0)
		close(fd);
	return log_error_errno(r, "cannot set up the liveness page: %m");
}

int life_fd(void)
{
	return life_fd_;
}

void life_mark_handover(void)
{
	/* Before the exec that ends this process: clients that see the mutex
	 * word gone read this next (release: the word is set before then). */
	if (life_page)
		__atomic_store_n((uint32_t *)((uint8_t *)life_page + DMAD_PROTO_LIFE_HANDOVER_OFF),
				 1, __ATOMIC_RELEASE);
}
