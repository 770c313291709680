/* SPDX-License-Identifier: MIT */
/*
 * Numbers on dmad's command line, in its config file and in
 * $DMAC_COPYBREAK are decimal: "0100" is a hundred (strtoul's base 0 made
 * it 64, octal), and "0x40", " 1" or "+1" are refused rather than read
 * some other way.
 */
#include <stdio.h>
#include <stdlib.h>

#include "copier.h"
#include "harness.h"

/* dmad with @opt @value exits 1 before it starts anything. */
static void refused(const char *opt, const char *value)
{
	char *argv[] = {(char *)harness_env("DMAD_BIN"),
			"--socket",
			"/nonexistent/dmad.sock",
			(char *)opt,
			(char *)value,
			NULL};
	char out[256];
	int r = harness_run(argv, out, sizeof(out), 10000);

	ok(r == 1, "dmad %s '%s' is refused (exit %d)", opt, value, r);
}

/* The copybreak a new channel of @socket starts with. */
static long chan_copybreak(const char *socket)
{
	struct dmac_client *c;
	struct dmac_chan *ch;
	long v = -1;

	if (dmac_connect(socket, "decimal", &c) < 0)
		return -1;
	if (dmac_chan_get(c, DMAC_CAP_COPY, &ch) == 0) {
		v = (long)dmac_chan_copybreak(ch);
		dmac_chan_put(ch);
	}
	dmac_disconnect(c);
	return v;
}

int main(void)
{
	struct harness_dmad *d;
	long v;

	harness_watchdog(60);
	unsetenv("DMAC_COPYBREAK");
	d = harness_dmad_start("--engines", "1", "--copybreak", "0100", NULL);
	v = chan_copybreak(d->socket);
	ok(v == 100, "dmad --copybreak 0100: a channel's copybreak is 100 (%ld)", v);

	setenv("DMAC_COPYBREAK", "0200", 1);
	v = chan_copybreak(d->socket);
	ok(v == 200, "DMAC_COPYBREAK=0200: 200 (%ld)", v);
	/* Not a decimal number: ignored, the daemon's value stands. */
	setenv("DMAC_COPYBREAK", "0x40", 1);
	v = chan_copybreak(d->socket);
	ok(v == 100, "DMAC_COPYBREAK=0x40 is ignored: 100 (%ld)", v);
	unsetenv("DMAC_COPYBREAK");
	harness_dmad_finish(d);

	refused("--copybreak", "0x40");
	refused("--copybreak", "-1");
	refused("--engines", " 1");
	refused("--engines", "+1");
	refused("--watchdog-ms", "1e3");
	return tap_done();
}
