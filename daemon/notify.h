/* SPDX-License-Identifier: MIT */
/*
 * What the service manager hears from dmad (sd_notify): READY=1 once the
 * devices are up and the socket accepts, a one-line STATUS= whenever its
 * counts change, WATCHDOG=1 only while every worker is still looping,
 * RELOADING=1 ... READY=1 around a reload, STOPPING=1 on the way out.
 * Without $NOTIFY_SOCKET every call costs a getenv and sends nothing.
 * All of these run on the control thread.
 */
#ifndef DMAD_NOTIFY_H
#define DMAD_NOTIFY_H

/* notify_ready() - READY=1 and the first STATUS=; arms the watchdog pings. */
void notify_ready(void);

/* notify_tick() - STATUS= if the counts changed; WATCHDOG=1 when due and earned. */
void notify_tick(void);

/* notify_reloading() - RELOADING=1: the settings are being re-read. */
void notify_reloading(void);

/* notify_reloaded() - READY=1 after a reload, whether or not it applied. */
void notify_reloaded(void);

/* notify_stopping() - STOPPING=1: in-flight copies finish, then dmad exits. */
void notify_stopping(void);

#endif /* DMAD_NOTIFY_H */
