/* SPDX-License-Identifier: MIT */
/* The control thread: one io_uring loop for every slow-path event. */
#ifndef DMAD_CONTROL_H
#define DMAD_CONTROL_H

/*
 * control_listen() - the control socket: from systemd (sd_listen_fds) or
 * bound at @path (mode 0660, group dma when it exists). Returns the fd or a
 * negative errno; *ret_owned says whether we bound it (and unlink it later).
 */
int control_listen(const char *path, int *ret_owned);

/*
 * control_run() - serve clients on @lfd until SIGTERM/SIGINT.
 * @ready: called once the loop is about to accept, for sd_notify.
 * Returns 0 or a negative errno.
 */
int control_run(int lfd, void (*ready)(void));

/*
 * control_quiesce() - after control_run() returned for a restart: end every
 * operation in flight, serving what had already arrived.
 */
void control_quiesce(void);

/*
 * control_shutdown() - mark every ring dead, tell every client the daemon is
 * going, free them all. After the workers have stopped and drained.
 */
void control_shutdown(void);

#endif /* DMAD_CONTROL_H */
