/* SPDX-License-Identifier: MIT */
/*
 * A fake engine for tests, driven step by step: it holds what it is given
 * until the test completes it (and does the copy then, on the test's
 * thread, as hardware would on its own), fails it, or never does. Drain,
 * move, watchdog and recovery can then be tested without timing.
 * Not part of dmad: only tests build engine_fake.c.
 */
#ifndef DMAD_ENGINE_FAKE_H
#define DMAD_ENGINE_FAKE_H

#include <stdbool.h>
#include <stdint.h>

struct device;

/*
 * engine_fake_add() - a device named @name, added as dmad adds any engine
 * (calibrated, given to a worker, listed). It starts in automatic mode:
 * everything completes as it is enqueued. Control thread.
 */
int engine_fake_add(const char *name, struct device **ret_dev);

/* Hold what is enqueued from now on, or go back to completing at once. */
void engine_fake_hold(struct device *d, bool hold);

/* Transfers enqueued so far, and completed so far (by either means). */
uint64_t engine_fake_enqueued(struct device *d);
uint64_t engine_fake_completed(struct device *d);

/*
 * engine_fake_complete() - complete the next @n held transfers, in order:
 * do them and report success, or (@ok false) report an error without
 * touching memory. Returns how many it completed (fewer if fewer are
 * held, none once the engine is stopped).
 */
unsigned engine_fake_complete(struct device *d, unsigned n, bool ok);

#endif /* DMAD_ENGINE_FAKE_H */
