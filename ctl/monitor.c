/* SPDX-License-Identifier: MIT */
/*
 * `dmactl monitor`: ask MONITOR, then print each event dmad sends, one line
 * each (ip monitor, udevadm monitor), or one JSON object per line with
 * --json, until SIGINT or SIGTERM (exit 0) or until dmad goes away (exit 3).
 * The signals are taken through a signalfd beside the socket, so an event
 * is never cut half-printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"

static const char *const names[] = {
	[DMAD_PROTO_MON_LOST] = "lost",
	[DMAD_PROTO_MON_DEV_ADDED] = "device-added",
	[DMAD_PROTO_MON_DEV_REMOVED] = "device-removed",
	[DMAD_PROTO_MON_DEV_FAILED] = "device-failed",
	[DMAD_PROTO_MON_DEV_UNPLUGGED] = "device-unplugged",
	[DMAD_PROTO_MON_CHAN_MOVED] = "channel-moved",
	[DMAD_PROTO_MON_CLIENT_CONNECTED] = "client-connected",
	[DMAD_PROTO_MON_CLIENT_GONE] = "client-gone",
	[DMAD_PROTO_MON_FLOW_DROPS] = "flow-drops",
};

/* One field of an event: a number, or a name from the wire (NUL-less, untrusted). */
struct field {
	const char *key;
	const char *s; /* NULL: the number */
	size_t size;
	uint64_t v;
};

#define NUM(k, x)  ((struct field){.key = (k), .v = (x)})
#define NAME(k, a) ((struct field){.key = (k), .s = (a), .size = sizeof(a)})

/* The fields each type carries, in the order they print. Returns how many. */
static unsigned fields(const struct dmad_proto_monitor_event *e, struct field *f)
{
	unsigned n = 0;

	switch (e->type) {
	case DMAD_PROTO_MON_LOST:
		f[n++] = NUM("count", e->count);
		break;
	case DMAD_PROTO_MON_DEV_REMOVED:
		f[n++] = NAME("device", e->device);
		f[n++] = NUM("moved", e->count);
		break;
	case DMAD_PROTO_MON_DEV_FAILED:
		f[n++] = NAME("device", e->device);
		f[n++] = NAME("reason", e->detail);
		break;
	case DMAD_PROTO_MON_DEV_ADDED:
	case DMAD_PROTO_MON_DEV_UNPLUGGED:
		f[n++] = NAME("device", e->device);
		break;
	case DMAD_PROTO_MON_CHAN_MOVED:
		f[n++] = NUM("client", e->client_id);
		f[n++] = NUM("chan", e->chan_id);
		f[n++] = NAME("from", e->device);
		f[n++] = NAME("to", e->to);
		f[n++] = NUM("stall_us", e->count);
		break;
	case DMAD_PROTO_MON_CLIENT_CONNECTED:
	case DMAD_PROTO_MON_CLIENT_GONE:
		f[n++] = NUM("client", e->client_id);
		f[n++] = NUM("pid", (uint64_t)(uint32_t)e->pid);
		f[n++] = NUM("uid", e->uid);
		f[n++] = NAME("name", e->name);
		break;
	case DMAD_PROTO_MON_FLOW_DROPS:
		f[n++] = NUM("client", e->client_id);
		f[n++] = NUM("flow", e->chan_id);
		f[n++] = NUM("drops", e->count);
		break;
	}
	return n;
}

static void print_event(const struct dmactl *o, const struct dmad_proto_monitor_event *e)
{
	const char *name = e->type < sizeof(names) / sizeof(names[0]) && names[e->type]
				   ? names[e->type]
				   : "unknown";
	time_t sec = (time_t)(e->time_ns / 1000000000u);
	char when[64], cell[CELL_MAX];
	struct field f[8];
	unsigned n = fields(e, f);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(when, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06uZ",
		 (unsigned)(e->time_ns % 1000000000u / 1000u));
	if (o->json) {
		/* JSON lines: one compact object per event, whatever --json's style. */
		struct json j = JSON_INIT(stdout, false);

		json_object_begin(&j, NULL);
		json_string(&j, "time", when);
		json_u64(&j, "time_ns", e->time_ns);
		json_string(&j, "event", name);
		if (!strcmp(name, "unknown"))
			json_u64(&j, "type", e->type);
		for (unsigned i = 0; i < n; i++) {
			if (f[i].s)
				json_stringn(&j, f[i].key, f[i].s, f[i].size);
			else
				json_u64(&j, f[i].key, f[i].v);
		}
		json_object_end(&j);
		return;
	}
	printf("%s %s", when, name);
	if (!strcmp(name, "unknown"))
		printf(" type=%" PRIu32, e->type);
	for (unsigned i = 0; i < n; i++) {
		if (!f[i].s) {
			printf(" %s=%" PRIu64, f[i].key, f[i].v);
			continue;
		}
		/* The library's own CPU copies have no device name. */
		if (f[i].s[0])
			fmt_name(cell, f[i].s, f[i].size);
		else
			snprintf(cell, sizeof(cell), "-");
		printf(strchr(cell, ' ') ? " %s=\"%s\"" : " %s=%s", f[i].key, cell);
	}
	putchar('\n');
}

/* Events until a signal (0) or the end of the connection (its exit status). */
static int follow(const struct dmactl *o, struct ctl_conn *c, int sfd)
{
	struct pollfd p[2] = {{.fd = ctl_fd(c), .events = POLLIN}, {.fd = sfd, .events = POLLIN}};

	for (;;) {
		struct dmad_proto_monitor_event e;
		struct ctl_reply msg;
		uint16_t type;
		int r;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "dmactl: monitor: poll: %s\n", strerror(errno));
			return DMACTL_EXIT_FAILED;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;

			/* Taken, so that it is not delivered once unblocked. */
			if (read(sfd, &si, sizeof(si)) < 0)
				return DMACTL_EXIT_FAILED;
			return DMACTL_EXIT_OK;
		}
		r = ctl_recv(c, DMACTL_TIMEOUT_MS, &type, &msg);
		if (r == -ECONNRESET) {
			fprintf(stderr, "dmactl: monitor: dmad at %s went away\n", o->socket);
			return DMACTL_EXIT_UNREACHABLE;
		}
		if (r < 0) {
			fprintf(stderr, "dmactl: monitor: reading from dmad at %s: %s\n", o->socket,
				strerror(-r));
			return DMACTL_EXIT_FAILED;
		}
		/* Other messages (a client's events) are not for a monitor to print. */
		if (type != DMAD_PROTO_MONITOR_EVENT)
			continue;
		/* A later minor may append fields: read what we know. */
		if (msg.len < sizeof(e)) {
			fprintf(stderr,
				"dmactl: monitor: short event (%" PRIu32 " bytes) from dmad\n",
				msg.len);
			return DMACTL_EXIT_FAILED;
		}
		memcpy(&e, msg.body, sizeof(e));
		print_event(o, &e);
		if (fflush(stdout) != 0)
			return DMACTL_EXIT_FAILED; /* dmactl.c says why */
	}
}

int monitor_main(struct dmactl *o, int argc, char **argv)
{
	struct ctl_reply rep;
	struct ctl_conn *c;
	sigset_t mask, old;
	int r, sfd;

	r = dmactl_args(o, argc, argv, NULL, 0, 0, NULL);
	if (r != DMACTL_CONTINUE)
		return r;
	/* Blocked before connecting: a Ctrl-C from now on ends the loop cleanly. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "dmactl: monitor: signalfd: %s\n", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return DMACTL_EXIT_FAILED;
	}
	r = dmactl_call(o, DMAD_PROTO_MONITOR, NULL, 0, DMACTL_TIMEOUT_MS, &c, &rep);
	if (r == DMACTL_EXIT_OK && rep.status == -EOPNOTSUPP) {
		fprintf(stderr,
			"dmactl: monitor: dmad at %s is older than MONITOR (protocol 1.3)\n",
			o->socket);
		ctl_close(c);
		r = DMACTL_EXIT_FAILED;
	} else if (r == DMACTL_EXIT_OK && rep.status < 0) {
		ctl_close(c);
		r = dmactl_refused(o, rep.status);
	} else if (r == DMACTL_EXIT_OK) {
		r = follow(o, c, sfd);
		ctl_close(c);
	}
	close(sfd);
	/* As it was: dmactl's main() may not be all there is (the fuzzer). */
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
