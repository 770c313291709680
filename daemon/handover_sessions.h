/* SPDX-License-Identifier: MIT */
/*
 * Every session into the handover state (handover_save.c), and back out of
 * it in the next dmad (handover_load.c). The state's format and its checks
 * are handover_state.h's; when and how one dmad becomes the next is
 * handover.c's.
 */
#ifndef DMAD_HANDOVER_SESSIONS_H
#define DMAD_HANDOVER_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * handover_save() - write every live session (clients with their regions
 * and channels; closing clients and put channels are left to end) with
 * the control socket @lfd (@owned: dmad bound it) into a sealed memfd, and clear FD_CLOEXEC on
 * that memfd and every fd it names, so that they survive exec. After the
 * workers stopped: what they had taken has retired. Returns the memfd or a
 * negative errno (then nothing was changed).
 */
int handover_save(int lfd, bool owned);

/*
 * handover_save_state() - the state handover_save() writes, into a buffer
 * (malloc'd, its length in *@ret_len), for the session journal
 * (handover_live.h): receive flows without where they stand (the rx
 * thread's ledger has that, rx_ledger.h). Touches no fd. Returns NULL
 * (logged) on failure.
 */
void *handover_save_state(int lfd, bool owned, size_t *ret_len);

/* A state read and checked, waiting for the engines to come up. */
struct handover_loaded;

/*
 * handover_read() - read the state in @fd (closed) and check it whole,
 * with entry i of its fd table @map[i] rather than the number it holds
 * when @map is given (@nmap entries: fds from the fd store). On
 * success *@ret_loaded holds it and its fds are dmad's (FD_CLOEXEC set
 * again). Either way *@ret_lfd is the inherited control socket, or -1: it
 * is kept even from a refused state, so that connections waiting on it
 * are served; *@ret_owned whether dmad bound it (and unlinks it at the end). A refused state is
 * logged, and every other fd it could have brought along (inherited without FD_CLOEXEC) is closed:
 * its clients see the daemon gone. Returns 0 or a negative errno.
 */
int handover_read(int fd, const int32_t *map, uint32_t nmap, struct handover_loaded **ret_loaded,
		  int *ret_lfd, bool *ret_owned);

/*
 * handover_restore() - make the sessions of @l again: clients with their
 * ids, regions under their ids, channels resumed at their consumer index
 * on the device they were on if it exists, else where a new one would go,
 * else dmad's CPU engine; then tell each client (RESTARTED, with the new
 * liveness page). A client that cannot be restored whole is closed.
 * After the workers launched. Frees @l.
 */
void handover_restore(struct handover_loaded *l);

#endif /* DMAD_HANDOVER_SESSIONS_H */
