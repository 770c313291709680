/* SPDX-License-Identifier: MIT */
/*
 * Restarting without ending sessions under a service manager
 * (`systemctl restart dmad`): on SIGTERM, a dmad started with --fdstore and
 * $NOTIFY_SOCKET set writes the handover state as `dmactl restart` does
 * (handover_sessions.h), then, instead of exec'ing, hands the state memfd
 * and every fd its table names to the manager's fd store, and exits 0. The
 * next dmad gets them back in LISTEN_FDS.
 *
 * Names (FDNAME=, LISTEN_FDNAMES): "dmad-state" for the state memfd,
 * "dmad-fd-N" for entry N of its fd table. Passed fds come renumbered: the
 * names, not the numbers in the state, put the table back together. Any
 * other passed fd (dmad.socket's listener) is left where it was.
 */
#ifndef DMAD_HANDOVER_FDSTORE_H
#define DMAD_HANDOVER_FDSTORE_H

#include <stdbool.h>
#include <stdint.h>

/* handover_fdstore_usable() - --fdstore was given and a manager listens
 * ($NOTIFY_SOCKET): SIGTERM hands the sessions to its fd store. */
bool handover_fdstore_usable(void);

/*
 * handover_fdstore_send() - send @state_fd (handover_save()) and every fd
 * its table names to the fd store, each under its name, with FDPOLL=0 (a
 * client's socket that hangs up stays in the table, for the next dmad to
 * close like any other). The state goes first: a store that took fewer
 * fds than the table names holds a state the next dmad refuses whole.
 * Returns 0, or a negative errno (logged).
 */
int handover_fdstore_send(int state_fd);

/*
 * handover_fdstore_take() - at start, before anything else opens an fd: if
 * LISTEN_FDS brings fds of this scheme, take every passed fd as if
 * inherited across exec (FD_CLOEXEC cleared, $LISTEN_* unset), tell the
 * store to forget the scheme's names (FDSTOREREMOVE=1), and return 1 with
 * *@ret_state_fd the state memfd (-1 if none came) and *@ret_map (malloc'd,
 * *@ret_n entries, -1 where none came) the fd of each table entry.
 * Returns 0 when none came (LISTEN_FDS untouched), or a negative errno.
 */
int handover_fdstore_take(int *ret_state_fd, int32_t **ret_map, uint32_t *ret_n);

#endif /* DMAD_HANDOVER_FDSTORE_H */
