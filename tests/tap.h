/* SPDX-License-Identifier: MIT */
/*
 * Just enough TAP (Test Anything Protocol) for meson's `protocol: 'tap'`:
 * a plan, one "ok"/"not ok" line per check, "# " diagnostics, whole-test
 * skip (exit 77) and bail out. Output is flushed line by line so nothing is
 * lost when a test is killed, and a forked child never replays its parent's
 * buffer.
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdbool.h>

/* Print "1..n" up front; without it tap_done() prints the plan at the end. */
void tap_plan(unsigned int n);

/* One check; returns @cond so callers can stop early on failure. */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A "# " comment line (not a result). */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One check that does not apply here, reported as "ok N # SKIP why". */
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Skip the whole program: "1..0 # SKIP why", exit 77. */
__attribute__((noreturn, format(printf, 1, 2))) void tap_skip_all(const char *fmt, ...);

/* Give up: "Bail out! why", exit 1 (cleanup runs through atexit). */
__attribute__((noreturn, format(printf, 1, 2))) void tap_bail(const char *fmt, ...);

/* Number of failed checks so far. */
unsigned int tap_failed(void);

/* Print the trailing plan if needed; the exit status for main(). */
int tap_done(void);

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#endif /* TESTS_TAP_H */
