/* SPDX-License-Identifier: MIT */
/*
 * `dmactl status` against a live daemon with a client holding a channel:
 * exit 0, valid JSON listing both default engines ONLINE, the client (by
 * name and pid) and its channel on one of them; the client disappears from
 * it after disconnecting; and an unreachable socket is exit status 3.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"

#define NAME	"status-probe"
#define GONE_MS 10000

static char out[1 << 16];

static struct jv *status_json(const char *socket, int *ret_exit)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)"--json",
			(char *)"status",
			NULL};

	*ret_exit = harness_run(argv, out, sizeof(out), 15000);
	return *ret_exit == 0 ? jv_parse(out) : NULL;
}

/* The client named NAME, or NULL. */
static const struct jv *find_client(const struct jv *root)
{
	const struct jv *c;

	for (size_t i = 0; (c = jv_at(jv_get(root, "clients"), i)); i++)
		if (!strcmp(jv_str(jv_get(c, "name"), ""), NAME))
			return c;
	return NULL;
}

static void check_devices(const struct jv *root, const char *chan_dev)
{
	const struct jv *devs = jv_get(root, "devices"), *dv;
	unsigned int online = 0, named = 0;

	for (size_t i = 0; (dv = jv_at(devs, i)); i++) {
		online += !strcmp(jv_str(jv_get(dv, "state"), ""), "ONLINE");
		named += !strcmp(jv_str(jv_get(dv, "name"), ""), chan_dev);
	}
	ok(devs && devs->n == 2, "two devices listed (%zu)", devs ? devs->n : 0);
	ok(online == 2, "both ONLINE (%u)", online);
	ok(named == 1, "the channel's device \"%s\" is one of them", chan_dev);
	ok(jv_num(jv_get(jv_get(root, "totals"), "devices"), -1) == 2, "totals.devices is 2");
}

static void check_client(const struct jv *root, const char *chan_dev)
{
	const struct jv *client = find_client(root), *chans = jv_get(root, "channels"), *ch;
	double id = jv_num(jv_get(client, "id"), -1);
	unsigned int mine = 0;

	if (!ok(client, "client \"%s\" listed", NAME))
		return;
	ok(jv_num(jv_get(client, "pid"), -1) == getpid(), "with our pid %d", getpid());
	ok(jv_num(jv_get(client, "channels"), -1) == 1, "holding one channel");
	ok(jv_num(jv_get(client, "regions"), -1) == 1, "and one region");
	for (size_t i = 0; (ch = jv_at(chans, i)); i++) {
		if (jv_num(jv_get(ch, "client"), -2) != id)
			continue;
		mine++;
		ok(!strcmp(jv_str(jv_get(ch, "device"), ""), chan_dev),
		   "its channel is on \"%s\" (\"%s\")", chan_dev,
		   jv_str(jv_get(ch, "device"), "?"));
		ok(jv_num(jv_get(ch, "ops"), -1) >= 1, "and counted our copy (ops %.0f)",
		   jv_num(jv_get(ch, "ops"), -1));
		ok(jv_num(jv_get(ch, "copybreak"), -1) == 0,
		   "with the copybreak the client set, 0 (%.0f)",
		   jv_num(jv_get(ch, "copybreak"), -1));
	}
	ok(mine == 1, "exactly one channel of the client listed (%u)", mine);
}

int main(void)
{
	char *argv_gone[] = {(char *)harness_env("DMACTL_BIN"), (char *)"--socket",
			     (char *)"/nonexistent/dmad.sock", (char *)"status", NULL};
	char *argv_text[] = {(char *)harness_env("DMACTL_BIN"), (char *)"--socket", NULL,
			     (char *)"status", NULL};
	struct harness_dmad *d;
	struct dmac_client *c = NULL;
	struct dmac_chan *ch = NULL;
	const char *dev;
	struct jv *root;
	dmac_cookie_t ck;
	uint8_t *mem;
	int64_t end;
	int r;

	harness_watchdog(90);
	d = harness_dmad_start(NULL);
	r = dmac_connect(d->socket, NAME, &c);
	mem = r == 0 ? dmac_region_alloc(c, 1 << 20) : NULL;
	if (mem)
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (!ok(mem && r == 0, "client with a region and a channel (%d)", r))
		return tap_done();
	dmac_chan_set_copybreak(ch, 0);
	ck = dmac_memcpy(ch, mem + 4096, mem, 4096, 0);
	dmac_issue_pending(ch);
	ok(ck >= 0 && dmac_wait(ch, ck, COPIER_WAIT_MS) == 0, "one copy done through the engine");
	dev = dmac_chan_device(ch);

	root = status_json(d->socket, &r);
	ok(r == 0, "dmactl --json status exits 0 (%d)", r);
	if (!ok(root && root->type == JV_OBJ, "its output is one JSON object"))
		tap_diag("output: %s", out);
	check_devices(root, dev);
	check_client(root, dev);
	jv_free(root);

	argv_text[2] = d->socket;
	r = harness_run(argv_text, out, sizeof(out), 15000);
	ok(r == 0 && strstr(out, "ONLINE") && strstr(out, NAME),
	   "dmactl status (text) exits 0 and shows the devices and the client (%d)", r);

	dmac_chan_put(ch);
	dmac_disconnect(c);
	end = harness_now_ms() + GONE_MS;
	do {
		root = status_json(d->socket, &r);
		if (root && !find_client(root))
			break;
		jv_free(root);
		root = NULL;
		usleep(100000);
	} while (harness_now_ms() < end);
	ok(root && !find_client(root), "the client is gone from the status after disconnecting");
	jv_free(root);

	r = harness_run(argv_gone, out, sizeof(out), 15000);
	ok(r == 3, "dmactl status on a socket nobody listens on: exit 3 (%d)", r);

	harness_dmad_finish(d);
	return tap_done();
}
