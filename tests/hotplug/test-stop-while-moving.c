/* SPDX-License-Identifier: MIT */
/*
 * dmad stopped (SIGTERM) while a removal drains: a client whose channel
 * the removal took off its device issued more copies meanwhile, which
 * wait in its ring for the channel's next engine. dmad finishes what was
 * issued before it stops, the failure model says: those copies too must
 * complete, byte-exact, not read as DMAC_ERROR.
 *
 * The drain lasts for as long as the test needs: the device hangs
 * (--fault-injection, a watchdog longer than the test) and the removal's
 * --timeout is longer than the test too.
 */
#include <signal.h>
#include <string.h>

#include "copier.h"
#include "ctl.h"
#include "harness.h"
#include "stuck.h"

#define WAIT_MS 30000

int main(void)
{
	struct harness_dmad *d;
	struct ctl_out o;
	struct ctl_bg bg;
	struct stuck s;
	unsigned held, errors = 0;
	int r;

	harness_watchdog(120);
	d = harness_dmad_start("--engines", "1", "--fault-injection", "--watchdog-ms", "600000",
			       NULL);
	if (!stuck_start(&s, d->socket, "stuck"))
		tap_bail("cannot set up the client");
	held = s.n;
	ctl_bg_start(&bg, d->socket, WAIT_MS, "remove", s.dev, "--timeout", "600000", NULL);
	ok(status_wait_dev(d->socket, s.dev, "DRAINING", 5000), "%s is DRAINING", s.dev);
	for (r = 0; r >= 0 && s.n < STUCK_MAX;)
		r = stuck_queue(&s);
	ok(s.n == STUCK_MAX, "%u more copies issued on the channel the removal took off (%d)",
	   s.n - held, r);

	r = harness_dmad_stop(d, SIGTERM);
	ok(r == 0, "dmad exits 0 on SIGTERM in the middle of the drain (%d)", r);
	for (unsigned i = 0; i < s.n; i++) {
		enum dmac_status st = dmac_is_complete(s.ch, s.cookie[i]);

		if (st != DMAC_COMPLETE) {
			if (!errors)
				tap_diag("copy %u (%s): %s", i, i < held ? "held" : "issued after",
					 st == DMAC_ERROR ? "DMAC_ERROR" : "in progress");
			errors++;
		}
	}
	ok(!errors, "every copy issued before the stop completed (%u did not)", errors);
	ok(stuck_finish(&s, 1000), "and holds the right bytes");
	ctl_bg_wait(&bg, &o);
	stuck_fini(&s);
	return tap_done();
}
