/* SPDX-License-Identifier: MIT */
/*
 * Restarting without ending sessions: dmad execs itself (the binary now at
 * the path it was started from, so an upgrade installed there runs) with
 * --takeover-fd=N naming the state memfd (handover_sessions.h); the
 * clients' sockets, regions' memfds and channels' rings and doorbells
 * survive the exec, and so does the control socket.
 */
#ifndef DMAD_HANDOVER_H
#define DMAD_HANDOVER_H

#include <stdbool.h>

/* handover_init() - remember how dmad was started: before the options are
 * parsed (getopt reorders @argv). Returns 0 or -ENOMEM. */
int handover_init(int argc, char **argv);

/* handover_possible() - can this dmad exec its binary? Logs why not. */
bool handover_possible(void);

/*
 * handover_exec() - exec the binary with @state_fd (handover_save()).
 * After the devices are released: only returns on failure, logged.
 */
void handover_exec(int state_fd);

#endif /* DMAD_HANDOVER_H */
