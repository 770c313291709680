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
 * One poll on an fd of another module's, from the control loop: @fn runs on
 * the control thread with poll's revents (or -errno) once @fd is ready.
 * Embed it in what it is for; it must stay allocated until @fn ran, or
 * until control_shutdown(). One-shot: watch again to go on.
 */
struct control_watch {
	void (*fn)(struct control_watch *w, int res);
};

void control_watch(int fd, unsigned events, struct control_watch *w);

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
