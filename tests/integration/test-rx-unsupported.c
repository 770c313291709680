/* SPDX-License-Identifier: MIT */
/*
 * A dmad built without receive offload (-Drx=disabled) says so: a flow
 * request gets -EOPNOTSUPP (not a complaint about the spec, the interface
 * or the caller's rights), `dmactl flows` explains it, and copies work as
 * ever. Registered only in such a build; tests/systemd/test-build-options.sh
 * builds one and runs this against it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"

int main(void)
{
	struct dmac_rx_spec spec = {
		.ifname = "lo",
		.proto = DMAC_RX_UDP,
		.port = 9000,
		.slot_size = 2048,
		.slot_count = 64,
	};
	char *argv[] = {(char *)harness_env("DMACTL_BIN"), "--socket", NULL, "flows", NULL};
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_rx *rx = NULL;
	struct copier k;
	char out[4096];
	int r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "1", NULL);
	r = dmac_connect(d->socket, "rx-unsupported", &c);
	if (!ok(r == 0, "connect (%d)", r))
		return tap_done();
	r = dmac_rx_open(c, &spec, &rx);
	ok(r == -EOPNOTSUPP && !rx, "dmac_rx_open: -EOPNOTSUPP (%d: %s)", r, strerror(-r));
	/* A spec the daemon would refuse anyway gets the same answer. */
	spec.port = 0;
	r = dmac_rx_open(c, &spec, &rx);
	ok(r == -EOPNOTSUPP, "with a bad spec too: -EOPNOTSUPP (%d)", r);
	dmac_disconnect(c);

	argv[2] = d->socket;
	r = harness_run(argv, out, sizeof(out), 10000);
	ok(r == 1, "dmactl flows exits 1 (%d); stderr above says why", r);

	r = copier_init(&k, d->socket, "rx-unsupported", 1 << 20, 4 << 20, 64 << 10, 7);
	if (ok(r == 0, "a copy channel (%d)", r)) {
		ok(copier_round(&k, 16) == 0, "copies verified");
		copier_fini(&k);
	}
	harness_dmad_finish(d);
	return tap_done();
}
