/* SPDX-License-Identifier: MIT */
/*
 * A SIGBUS ends dmad, so that its service manager starts it again. DPDK's
 * handler for a removed PCI device's registers, once installed, took every
 * SIGBUS: with none of its own to claim it called rte_exit(), which waits
 * for the faulting thread itself, and dmad hung for good, every client
 * with it. Without PCI (software engines) that handler is not installed.
 * A signal sent with kill() stands for a fault here: to the handler it is
 * one that no bus claims, as a fault in a client's memory would be.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>

#include "copier.h"
#include "harness.h"

int main(void)
{
	struct harness_dmad *d;
	struct copier k;
	int r, c;

	harness_watchdog(90);
	d = harness_dmad_start(NULL);
	harness_dmad_wait_ready(d);
	/* No core file left behind. */
	prlimit(d->pid, RLIMIT_CORE, &(struct rlimit){0, 0}, NULL);
	r = copier_init(&k, d->socket, "sigbus", 1 << 20, 1 << 20, 64 << 10, 5);
	ok(r == 0 && copier_ring_and_fill(&k, 2) == 0, "copies verified before (%d)", r);
	r = harness_dmad_stop(d, SIGBUS);
#ifdef __SANITIZE_ADDRESS__
	/* ASan takes the signal first: it reports the fault and exits 1. */
	ok(r > 0, "SIGBUS ends dmad, as ASan's report, within %d ms (%d)", HARNESS_STOP_MS, r);
#else
	ok(r == -SIGBUS, "SIGBUS ends dmad, by that signal, within %d ms (%d)", HARNESS_STOP_MS, r);
#endif
	c = dmac_memcpy(k.ch, k.dst, k.src, 4096, 0);
	if (c >= 0)
		c = dmac_wait(k.ch, c, COPIER_WAIT_MS);
	ok(c == -ENODEV, "and its client learns that it is gone (%d)", c);
	copier_fini(&k);
	return tap_done();
}
