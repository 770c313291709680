/* SPDX-License-Identifier: MIT */
/*
 * Sessions that survive dmad's crash (SIGKILL, the watchdog's abort) under
 * a service manager with an fd store (--fdstore, Restart=on-failure): every
 * fd a session is made of goes to the store as it is created and leaves it
 * before it is closed, and a journal memfd in the store always holds the
 * state of every session as the control thread last changed it (the
 * handover state, handover_state.h). The next dmad takes both back and
 * rebuilds the sessions as after a planned restart (handover_fdstore.h),
 * resuming each ring at what the dead dmad had retired.
 *
 * Names: "dmad-live-E-F" for fd F of the dmad of epoch E (16 hex digits,
 * new at each start), "dmad-live-E-state" for its journal. An fd the next
 * dmad took from the store keeps the name it has there (the store keeps
 * one fd per open file: stored again, it would be dropped). The journal
 * gives each entry of its state's fd table the name it is stored under,
 * so the next dmad finds each one again whatever the store renumbered. A
 * name is never ambiguous: the journal stops naming an fd before the
 * store forgets it and before it is closed, and names one only after the
 * store has it.
 * The journal's layout: handover_journal.h.
 */
#ifndef DMAD_HANDOVER_LIVE_H
#define DMAD_HANDOVER_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handover_journal.h"
#include "handover_replies.h"

/*
 * handover_live_init() - at start, when handover_fdstore_usable(): from now
 * on, fds are stored as they are created and the workers release a ring's
 * slots only once retired (dmad.crash_safe). Returns 0, or a negative
 * errno from memfd_create/mmap (logged: dmad then runs without).
 */
int handover_live_init(void);

/*
 * handover_live_add() - @fd is now part of a session: into the store. A
 * region's memfd (@reopen) goes as a new open of its file, since the store
 * keeps one fd per open file and a client may register one memfd twice.
 * Control thread. Logged once if the store refuses: a crash then ends
 * every session.
 */
void handover_live_add(int fd, bool reopen);

/*
 * handover_live_drop() - @fd is about to be closed: the journal stops
 * naming it first (handover_live_sync()), then the store forgets it.
 * Control thread; nothing for an fd never added.
 */
void handover_live_drop(int fd);

/* handover_live_dirty() - the sessions changed: the journal is stale. */
void handover_live_dirty(void);

/*
 * handover_live_start() - after the sessions of a predecessor (if any) are
 * restored: journal writes begin, with @build making the state (malloc'd,
 * its length in *@ret_len; NULL on failure) and @replies each client's
 * last answer (malloc'd, *@ret_n records; NULL on failure). The first
 * write stores this dmad's journal, then the store forgets every name the
 * predecessor left. The answers handover_live_take() kept go.
 */
void handover_live_start(void *(*build)(size_t *ret_len),
			 struct handover_reply *(*replies)(uint32_t *ret_n));

/*
 * handover_live_sync() - write the state into the journal if it is stale:
 * before a reply tells a client its request took effect. Control thread.
 */
void handover_live_sync(void);

/*
 * handover_live_unstore() - a planned restart hands the sessions over by
 * itself: the store forgets every name of this dmad first (it would keep
 * the same open files under the old names and drop the new ones).
 */
void handover_live_unstore(void);

/*
 * handover_live_take() - at start, from the fd store's @names (@n, passed
 * from SD_LISTEN_FDS_START): the newest whole journal's state, copied into
 * a new memfd (*@ret_state_fd) with the stall counted from this dmad's
 * start, and the fd of each entry of its table (*@ret_map, malloc'd,
 * *@ret_n entries, -1 where the store lacks it: the state is then refused
 * whole). The names are forgotten at handover_live_start(). Returns 1, 0
 * when no journal came, or a negative errno.
 */
int handover_live_take(char **names, int n, int *ret_state_fd, int32_t **ret_map, uint32_t *ret_n);

/*
 * handover_live_reply() - the last answer the journal taken kept for the
 * client of @client_id (checked by handover_reply_ok()), or NULL; until
 * handover_live_start().
 */
const struct handover_reply *handover_live_reply(uint32_t client_id);

/* handover_live_crashed() - were the sessions taken from a journal? */
bool handover_live_crashed(void);

/*
 * handover_live_resume() - where a ring of a dmad that died resumes: after
 * the last descriptor it completed (the ring's `completed` cookie, found
 * between sq_head and sq_tail), so that what an engine held is done again,
 * in order. @ring_fd's content is the client's to write: indices out of
 * range leave *@head and *@err_tail as the state had them.
 */
void handover_live_resume(int ring_fd, uint32_t *head, uint32_t *err_tail);

#endif /* DMAD_HANDOVER_LIVE_H */
