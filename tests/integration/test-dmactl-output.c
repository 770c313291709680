/* SPDX-License-Identifier: MIT */
/*
 * dmactl's output conventions, as systemctl and networkctl have them:
 * --json=pretty (indented) and --json=short (one line, as plain --json),
 * both one valid document; --no-legend (rows only: no column names, no
 * totals, no "no clients" hints); `status DEV` cut down to one device, its
 * channels and their clients; an unknown DEV or --json value refused.
 */
#include <stdio.h>
#include <string.h>

#include "dmaclient.h"
#include "harness.h"
#include "jsonread.h"

#define NCLIENT 3

static char out[1 << 16];

/* dmactl --socket SOCKET ARGS... into out[]; its exit status. */
static int dmactl(const char *socket, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			(char *)socket,
			(char *)a1,
			(char *)a2,
			(char *)a3,
			NULL};

	return harness_run(argv, out, sizeof(out), 15000);
}

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void json_forms(const char *socket)
{
	struct jv *pretty, *shrt;
	int r;

	r = dmactl(socket, "--json=pretty", "status", NULL);
	pretty = r == 0 ? jv_parse(out) : NULL;
	ok(pretty && lines(out) > 10 && strstr(out, "\n  \"devices\": ["),
	   "--json=pretty status: one document, indented over %u lines (exit %d)", lines(out), r);
	r = dmactl(socket, "status", "--json=short", NULL);
	shrt = r == 0 ? jv_parse(out) : NULL;
	ok(shrt && lines(out) == 1, "status --json=short: one document on one line (exit %d)", r);
	ok(pretty && shrt && jv_get(pretty, "devices")->n == jv_get(shrt, "devices")->n &&
		   jv_get(pretty, "channels")->n == jv_get(shrt, "channels")->n,
	   "the same devices and channels either way");
	jv_free(pretty);
	jv_free(shrt);
	r = dmactl(socket, "--json=yaml", "status", NULL);
	ok(r == 2, "--json=yaml: usage error, exit 2 (%d)", r);
	r = dmactl(socket, "status", "--json=", NULL);
	ok(r == 2, "--json= (empty): usage error, exit 2 (%d)", r);
}

static void no_legend(const char *socket)
{
	int r = dmactl(socket, "--no-legend", "status", NULL);

	ok(r == 0 && !strstr(out, "DEVICE") && !strstr(out, "CLIENT") && !strstr(out, "total:"),
	   "--no-legend status: no column names, no totals (exit %d)", r);
	ok(!strncmp(out, "dma_skeleton", 12), "its first line is a device row");
	r = dmactl(socket, "clients", "--no-legend", NULL);
	/* dmactl is a client too, while it asks. */
	ok(r == 0 && lines(out) == NCLIENT + 1 && strstr(out, "legend-0") && strstr(out, "dmactl"),
	   "clients --no-legend: one line per client, nothing else (%u lines)", lines(out));
}

static void one_device(const char *socket, const char *dev)
{
	const struct jv *ch, *c;
	unsigned bad = 0;
	struct jv *root;
	int r;

	r = dmactl(socket, "--json", "status", dev);
	root = r == 0 ? jv_parse(out) : NULL;
	ok(root && jv_get(root, "devices")->n == 1 &&
		   !strcmp(jv_str(jv_get(jv_at(jv_get(root, "devices"), 0), "name"), ""), dev),
	   "status %s --json: that device alone (exit %d)", dev, r);
	for (size_t i = 0; (ch = jv_at(jv_get(root, "channels"), i)); i++)
		bad += !!strcmp(jv_str(jv_get(ch, "device"), ""), dev);
	ok(root && jv_get(root, "channels")->n >= 1 && !bad,
	   "only channels on %s (%zu listed, %u elsewhere)", dev,
	   root ? jv_get(root, "channels")->n : 0, bad);
	/* Every client listed has a channel listed, and the other way round. */
	for (size_t i = 0; (c = jv_at(jv_get(root, "clients"), i)); i++) {
		unsigned has = 0;

		for (size_t k = 0; (ch = jv_at(jv_get(root, "channels"), k)); k++)
			has += jv_num(jv_get(ch, "client"), -1) == jv_num(jv_get(c, "id"), -2);
		bad += !has;
	}
	ok(root && !bad && jv_get(root, "clients")->n >= 1 && jv_get(root, "clients")->n < NCLIENT,
	   "and just the clients with a channel there (%zu of %d)",
	   root ? jv_get(root, "clients")->n : 0, NCLIENT);
	ok(root && jv_num(jv_get(jv_get(root, "totals"), "devices"), 0) == 1 &&
		   jv_num(jv_get(jv_get(root, "totals"), "channels"), 0) ==
			   (double)jv_get(root, "channels")->n,
	   "its totals count what it lists");
	jv_free(root);

	r = dmactl(socket, "status", dev, NULL);
	ok(r == 0 && strstr(out, dev) && strstr(out, "DEVICE"), "status %s as a table (exit %d)",
	   dev, r);
	r = dmactl(socket, "status", "dma_skeleton9", NULL);
	ok(r == 1, "status of a device that is not there: exit 1 (%d)", r);
	r = dmactl(socket, "status", dev, "extra");
	ok(r == 2, "status with two operands: usage error, exit 2 (%d)", r);
}

int main(void)
{
	struct dmac_client *c[NCLIENT];
	struct dmac_chan *ch[NCLIENT];
	struct harness_dmad *d;
	char name[32];
	int r;

	harness_watchdog(90);
	d = harness_dmad_start("--engines", "2", NULL);
	/* Channels go to the least loaded engine: three spread over two. */
	for (int i = 0; i < NCLIENT; i++) {
		snprintf(name, sizeof(name), "legend-%d", i);
		r = dmac_connect(d->socket, name, &c[i]);
		if (r == 0)
			r = dmac_chan_get(c[i], DMAC_CAP_COPY, &ch[i]);
		if (!ok(r == 0, "client %s with a channel on %s (%d)", name,
			r ? "?" : dmac_chan_device(ch[i]), r))
			return tap_done();
	}

	json_forms(d->socket);
	no_legend(d->socket);
	one_device(d->socket, dmac_chan_device(ch[0]));

	for (int i = 0; i < NCLIENT; i++)
		dmac_disconnect(c[i]);
	harness_dmad_finish(d);
	return tap_done();
}
