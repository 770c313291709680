/* SPDX-License-Identifier: MIT */
/*
 * `dmactl log-level LEVEL` changes what dmad logs at once: debug messages
 * appear after `debug` and stop after `warning`; the change itself is
 * logged either way. `dmactl log-level` alone prints the level dmad has
 * (the STATUS reply's tail, protocol 1.2): the default, each change, and
 * --log-level's. Bad levels are refused by dmactl (exit 2) and by dmad (a
 * level past LOG_DEBUG: -EINVAL; a short body or a non-zero reserved
 * field: -EBADMSG).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rawproto.h"

static struct harness_dmad *d;
static char status[1 << 16];

/* How many lines of dmad's log so far contain @text. */
static unsigned log_count(const char *text)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(d->log, "re");

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* A client says HELLO, which dmad logs at debug level, and goes. */
static void hello(int fd)
{
	int c = raw_connect(d->socket);

	if (c < 0 || raw_hello(c, "log-level-probe") != 0)
		tap_bail("cannot say hello to dmad");
	close(c);
	/* A request on @fd after it: dmad has handled the HELLO by its reply. */
	if (raw_request(fd, DMAD_PROTO_STATUS, NULL, 0, NULL, 0, NULL) != 0)
		tap_bail("STATUS failed");
}

/* dmactl --socket S @a @b @c (NULL ends the list): exit status, stdout in @out. */
static int dmactl(char *out, size_t size, const char *a, const char *b, const char *c)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			d->socket,
			(char *)a,
			(char *)b,
			(char *)c,
			NULL};

	out[0] = '\0';
	return harness_run(argv, out, size, 10000);
}

/* The log level at the end of a raw STATUS reply; -1 if it is not there. */
static int status_level(int fd)
{
	static struct raw_msg m;
	const struct dmad_proto_status *st = (const void *)m.body;
	struct dmad_proto_status_tail tail;
	size_t at;

	if (raw_request(fd, DMAD_PROTO_STATUS, NULL, 0, NULL, 0, &m) != 0 ||
	    m.body_len < sizeof(*st) || m.hdr.minor < 2)
		return -1;
	at = sizeof(*st) + st->ndev * sizeof(struct dmad_proto_dev_info) +
	     st->nclient * sizeof(struct dmad_proto_client_info) +
	     st->nchan * sizeof(struct dmad_proto_chan_info);
	if (m.body_len < at + sizeof(tail))
		return -1;
	memcpy(&tail, m.body + at, sizeof(tail));
	return (int)tail.log_level;
}

static int request(int fd, uint32_t level, uint32_t rsvd, uint32_t len)
{
	struct dmad_proto_log_level_req req = {.level = level, .rsvd = rsvd};

	return raw_request(fd, DMAD_PROTO_LOG_LEVEL, &req, len, NULL, 0, NULL);
}

int main(void)
{
	const char *probe = "hello as \"log-level-probe\"";
	char out[512];
	unsigned before;
	int fd, r;

	harness_watchdog(60);
	d = harness_dmad_start("--engines", "1", NULL);
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, "log-level-test") != 0)
		tap_bail("cannot connect to dmad");

	hello(fd);
	ok(log_count(probe) == 0, "at the default level, HELLO is not logged");
	r = dmactl(out, sizeof(out), "log-level", NULL, NULL);
	ok(r == 0 && !strcmp(out, "info\n"), "dmactl log-level: exit %d, \"%s\"", r, out);
	r = dmactl(status, sizeof(status), "--json", "status", "dma_skeleton0");
	ok(r == 0 && strstr(status, "\"log_level\":\"info\""),
	   "dmactl --json status dma_skeleton0 carries it too (exit %d)", r);
	r = dmactl(status, sizeof(status), "--json", "status", NULL);
	ok(r == 0 && strstr(status, "\"log_level\":\"info\""), "and so does dmactl --json status");
	r = status_level(fd);
	ok(r == 6, "STATUS (minor 2) ends with the level: %d", r);

	r = dmactl(out, sizeof(out), "log-level", "debug", NULL);
	ok(r == 0 && !strcmp(out, "dmad log level set to debug\n"),
	   "dmactl log-level debug: exit %d, \"%s\"", r, out);
	hello(fd);
	ok(log_count(probe) == 1, "now HELLO is logged (%u)", log_count(probe));
	ok(log_count("log level set to debug by client") == 1, "and so is the change");
	r = dmactl(out, sizeof(out), "log-level", NULL, NULL);
	ok(r == 0 && !strcmp(out, "debug\n"), "dmactl log-level: \"%s\"", out);

	r = dmactl(out, sizeof(out), "log-level", "warning", NULL);
	ok(r == 0, "dmactl log-level warning: exit %d", r);
	ok(log_count("log level set to warning by client") == 1,
	   "the change to a quieter level is logged too");
	before = log_count(probe);
	hello(fd);
	ok(log_count(probe) == before, "HELLO is no longer logged (%u)", log_count(probe));

	r = dmactl(out, sizeof(out), "--json", "log-level", NULL);
	ok(r == 0 && !strcmp(out, "{\"log_level\":\"warning\",\"priority\":4}\n"),
	   "--json log-level: exit %d, %s", r, out);
	r = dmactl(out, sizeof(out), "log-level", "info", "debug");
	ok(r == 2, "dmactl log-level with two levels: usage error (%d)", r);
	r = dmactl(out, sizeof(out), "--json", "log-level", "7");
	ok(r == 0 && !strcmp(out, "{\"log_level\":\"debug\",\"priority\":7}\n"),
	   "--json log-level 7: exit %d, %s", r, out);
	r = dmactl(out, sizeof(out), "log-level", "loud", NULL);
	ok(r == 2, "dmactl log-level loud: usage error (%d)", r);
	r = dmactl(out, sizeof(out), "log-level", "8", NULL);
	ok(r == 2, "dmactl log-level 8: usage error (%d)", r);

	r = request(fd, 8, 0, sizeof(struct dmad_proto_log_level_req));
	ok(r == -EINVAL, "dmad refuses level 8 with -EINVAL (%d)", r);
	r = request(fd, 6, 1, sizeof(struct dmad_proto_log_level_req));
	ok(r == -EBADMSG, "and a non-zero reserved field with -EBADMSG (%d)", r);
	r = request(fd, 6, 0, 4);
	ok(r == -EBADMSG, "and a short body with -EBADMSG (%d)", r);
	r = request(fd, 6, 0, sizeof(struct dmad_proto_log_level_req));
	ok(r == 0, "and takes level 6 (%d)", r);

	close(fd);
	harness_dmad_finish(d);

	d = harness_dmad_start("--engines", "0", "--log-level", "notice", NULL);
	r = dmactl(out, sizeof(out), "log-level", NULL, NULL);
	ok(r == 0 && !strcmp(out, "notice\n"),
	   "dmad --log-level notice: dmactl log-level says \"%s\"", out);
	harness_dmad_finish(d);
	return tap_done();
}
