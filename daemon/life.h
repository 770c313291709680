/* SPDX-License-Identifier: MIT */
/* The liveness page clients map to see that dmad is gone (dmad_proto.h). */
#ifndef DMAD_LIFE_H
#define DMAD_LIFE_H

/*
 * life_init() - create the page and lock its robust mutex. On the thread
 * that lives as long as dmad (the main thread), before clients connect.
 * Returns 0 or a negative errno.
 */
int life_init(void);

/* The page's memfd, for HELLO replies; -1 before life_init(). */
int life_fd(void);

/* life_mark_handover() - set the page's handover word: this dmad's end,
 * which the kernel marks in the mutex word, is a restart (dmad_proto.h). */
void life_mark_handover(void);

#endif /* DMAD_LIFE_H */
