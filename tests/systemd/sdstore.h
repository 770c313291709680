/* SPDX-License-Identifier: MIT */
/*
 * A service manager's fd store, played by the test: it holds
 * $NOTIFY_SOCKET, keeps what FDSTORE=1 sends under its FDNAME= (an fd of a
 * file it already holds is dropped, as systemd's same_fd() does), forgets
 * what FDSTOREREMOVE=1 names, and starts dmad with what it holds in
 * LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID, from fd 3, as systemd does.
 */
#ifndef TESTS_SYSTEMD_SDSTORE_H
#define TESTS_SYSTEMD_SDSTORE_H

#include <stdbool.h>

#include "sdtest.h"

#define SDS_MAX	 256
#define SDS_NAME 256 /* FDNAME= takes up to 255 characters */

struct sds {
	int nfd; /* the notify socket */
	char notify[128];
	int fds[SDS_MAX];
	char names[SDS_MAX][SDS_NAME];
	unsigned n;
	unsigned forgotten; /* fds FDSTOREREMOVE=1 closed since the last start */
	unsigned dropped;   /* fds sent that it did not keep (same file, or full) */
};

/* sds_open() - bind the notify socket in sdt_dir(); an empty store. */
void sds_open(struct sds *s);

/* sds_hear() - one message within @timeout_ms, acted on; NULL if none. */
const char *sds_hear(struct sds *s, int timeout_ms);

/*
 * sds_start() - run @argv (a dmad) as the manager does, with the store in
 * LISTEN_FDS (nothing when empty) and $NOTIFY_SOCKET; the store keeps its
 * fds, as systemd's does.
 */
void sds_start(struct sds *s, struct sdt_proc *p, const char *name, char *const argv[]);

/*
 * sds_start_dmad() - sds_start() of $DMAD_BIN --socket @socket --engines 1
 * --fdstore, then @extra (NULL-terminated; NULL for none).
 */
void sds_start_dmad(struct sds *s, struct sdt_proc *p, const char *name, const char *socket,
		    const char *const extra[]);

/* sds_hear_for() - hear the store for @ms: dmad blocks when nobody reads it. */
void sds_hear_for(struct sds *s, int ms);

/* sds_ready() - hear until READY=1 (true), or @timeout_ms. */
bool sds_ready(struct sds *s, int timeout_ms);

/*
 * sds_stop() - send @sig, hear until @p exits (within @timeout_ms), then
 * what it sent before. Returns its exit code, -signo, or -ETIMEDOUT.
 */
int sds_stop(struct sds *s, struct sdt_proc *p, int sig, int timeout_ms);

/* sds_count() - stored fds whose name starts with @prefix. */
unsigned sds_count(const struct sds *s, const char *prefix);

/* sds_has() - is an fd stored under @name? */
bool sds_has(const struct sds *s, const char *name);

/* sds_clear() - close everything stored: `systemctl stop`. */
void sds_clear(struct sds *s);

#endif /* TESTS_SYSTEMD_SDSTORE_H */
