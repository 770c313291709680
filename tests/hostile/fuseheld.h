/* SPDX-License-Identifier: MIT */
/*
 * A FUSE file system served by the test itself, mounted on a temporary
 * directory, with one file "f": every FLUSH that comes from one process
 * (dmad) is held unanswered until fuseheld_release(), as a hostile
 * client's own server could hold it forever. close() of that file waits
 * for the answer uninterruptibly. Root and /dev/fuse: the test is skipped
 * (tap_skip_all) where FUSE cannot be mounted.
 */
#ifndef TESTS_FUSEHELD_H
#define TESTS_FUSEHELD_H

#include <sys/types.h>

/* Mount and serve; unmounted at exit. */
void fuseheld_mount(void);
/* The mount's directory: the file is "<dir>/f". */
const char *fuseheld_dir(void);
/* Hold the FLUSHes of process @pid's threads from now on. */
void fuseheld_hold_from(pid_t pid);
/* How many FLUSHes are held. */
unsigned fuseheld_count(void);
/* Answer what was held, and hold no more. */
void fuseheld_release(void);

#endif /* TESTS_FUSEHELD_H */
