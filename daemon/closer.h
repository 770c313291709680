/* SPDX-License-Identifier: MIT */
/*
 * The fds a client sends that dmad does not keep, closed off the control
 * thread: close() calls the file's flush, which for a file on FUSE is a
 * request to the file system's server, waited for uninterruptibly. Any
 * user may serve a FUSE mount of their own (fusermount), and one that
 * never answers would hold the control thread, and every client's
 * requests with it, for as long as it likes; here it holds one thread
 * that does nothing else.
 */
#ifndef DMAD_CLOSER_H
#define DMAD_CLOSER_H

#include <stdbool.h>
#include <stdint.h>

/* closer_start() - start the thread; before the first request is read.
 * Returns 0 or a negative errno, logged. */
int closer_start(void);

/*
 * closer_close() - close @fd, a client's: at once when its close cannot
 * wait (a memfd, an eventfd, a socket, a pipe) or there is no closer
 * thread (not started, or out of memory), else on that thread. Returns 0,
 * or a ticket for closer_done() while it waits there.
 */
uint64_t closer_close(int fd);

/*
 * closer_done() - has every fd handed over up to @ticket been closed? Each
 * waiting fd is one of dmad's: a client with some waiting is not read
 * until they are, or a FLUSH held by a FUSE server would let it take dmad
 * to RLIMIT_NOFILE.
 */
bool closer_done(uint64_t ticket);

#endif /* DMAD_CLOSER_H */
