/* SPDX-License-Identifier: MIT */
/*
 * dmactl as the hotplug tests use it: run it ($DMACTL_BIN) with stdout and
 * stderr each captured (its messages are part of what is checked), in the
 * foreground or in a child process while the test goes on, and read what
 * `dmactl --json status` says about devices and channels.
 */
#ifndef TESTS_HOTPLUG_CTL_H
#define TESTS_HOTPLUG_CTL_H

#include <stdbool.h>
#include <sys/types.h>

#include "jsonread.h"

struct ctl_out {
	int exit; /* exit code, -signo, or -ETIMEDOUT */
	char out[32 * 1024];
	char err[4 * 1024];
};

/*
 * ctl_run() - dmactl --socket @socket ARGS... (NULL-terminated), killed
 * after @timeout_ms. Returns o->exit.
 */
int ctl_run(struct ctl_out *o, const char *socket, int timeout_ms, const char *arg, ...)
	__attribute__((sentinel));

/* `dmactl --json ARGS...`: its output parsed, or NULL (exit status in @ret_exit). */
struct jv *ctl_json(const char *socket, int *ret_exit, const char *arg, ...)
	__attribute__((sentinel));

/* One dmactl run in a child process, so that the test can act meanwhile. */
struct ctl_bg {
	pid_t pid;
	int fd;
};

void ctl_bg_start(struct ctl_bg *b, const char *socket, int timeout_ms, const char *arg, ...)
	__attribute__((sentinel));
/* Its output once it has finished; returns o->exit (-ECHILD if it reported nothing). */
int ctl_bg_wait(struct ctl_bg *b, struct ctl_out *o);

/* From a status document: the live device named @name, or NULL. */
const struct jv *status_dev(const struct jv *root, const char *name);
/* The record of the released device named @name ("released"), or NULL. */
const struct jv *status_released(const struct jv *root, const char *name);
/* Its "state", live or released (REMOVED, FAILED, GONE), or "" when neither. */
const char *status_dev_state(const struct jv *root, const char *name);
/* "totals"."ops": what every engine did since dmad started; -1 when absent. */
double status_total_ops(const struct jv *root);
/* The device the channel of the client named @client is on ("" for none, NULL if not listed). */
const char *status_chan_dev(const struct jv *root, const char *client);

/*
 * status_wait_dev() - ask for the status until device @dev is in @state
 * (NULL: no longer live, whether its record is kept or not) or @timeout_ms
 * passes; asks at least once.
 * Returns whether it was.
 */
bool status_wait_dev(const char *socket, const char *dev, const char *state, int timeout_ms);

#endif /* TESTS_HOTPLUG_CTL_H */
