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

/* closer_start() - start the thread; before the first request is read.
 * Returns 0 or a negative errno, logged. */
int closer_start(void);

/* closer_close() - close @fd, a client's, on the closer thread; here, at
 * once, when there is none (not started, or out of memory). */
void closer_close(int fd);

#endif /* DMAD_CLOSER_H */
