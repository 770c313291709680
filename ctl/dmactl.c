/* SPDX-License-Identifier: MIT */
/*
 * dmactl: administer dmad from a shell or a script. The command table drives
 * both dispatch and the usage text (as wireguard-tools' wg does), so a new
 * command is one entry here and one file holding its function.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dmad_proto.h"
#include "dmactl.h"

#define SYNOPSIS "dmactl [--socket PATH] [--json[=pretty|short]] [--no-legend]"

static int help_main(struct dmactl *o, int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(struct dmactl *o, int argc, char **argv);
	const char *args; /* shown after the name in usage */
	const char *description;
	const char *details; /* the command's own help: its options, NULL if none */
} commands[] = {
	{"status", status_main, "[DEV]", "show devices, clients, channels and totals, or DEV's",
	 NULL},
	{"clients", clients_main, "", "list the connected clients", NULL},
	{"remove", remove_main, "DEV [--timeout MS]",
	 "drain DEV, move its channels to other engines, release it",
	 "  --timeout MS  bound on the drain, 1 to 86400000 (default: dmad's, 5000 unless\n"
	 "                its --drain-timeout-ms says otherwise); past it the CPU redoes\n"
	 "                DEV's in-flight copies. dmactl waits MS + 10 s for the answer\n"
	 "                (30 s by default); if it gives up, the removal goes on.\n"},
	{"add", add_main, "DEVARGS", "probe a device (dma_skeleton2, 0000:00:04.0, ...) and use it",
	 NULL},
	{"fault", fault_main, "DEV hang", "make DEV stop completing (dmad --fault-injection only)",
	 NULL},
	{"flows", flows_main, "", "list receive offload flows with their counters", NULL},
	{"log-level", loglevel_main, "[LEVEL]",
	 "show or set what dmad logs: err, warning, notice, info or debug", NULL},
	{"reset-failed", reset_failed_main, "[DEV]",
	 "forget released devices (removed, failed, gone), or DEV's record", NULL},
	{"monitor", monitor_main, "", "print dmad's events as they happen, until Ctrl-C", NULL},
	{"metrics", metrics_main, "", "print every counter as OpenMetrics (Prometheus) text", NULL},
	{"set", set_main, "CLIENT|uid=N weight N|rate BYTES",
	 "share engines by weight (1..10000, default 100), limit a byte rate",
	 "  CLIENT         a client id (dmactl clients); uid=N: that uid's clients, whose\n"
	 "                 default weight it sets and whose rate it limits together\n"
	 "  weight N       its share of an engine beside others that have work\n"
	 "  rate BYTES     bytes per second, with K, M, G or T (binary); none: no limit.\n"
	 "                 Copies over the rate wait in the client's ring, in order.\n"},
	{"restart", restart_main, "",
	 "restart dmad in place (its binary as now installed), keeping every session", NULL},
	{"help", help_main, "", "show this help", NULL},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	char call[NCOMMANDS][64];
	int width = 0;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(call[i], sizeof(call[i]), "%s%s%s", commands[i].name,
			 *commands[i].args ? " " : "", commands[i].args);
		if ((int)strlen(call[i]) > width)
			width = (int)strlen(call[i]);
	}
	fprintf(f, "Usage: " SYNOPSIS " COMMAND [ARGS]\n\nCommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-*s  %s\n", width, call[i], commands[i].description);
	fprintf(f, "\nOptions:\n"
		   "  --socket PATH  dmad's control socket (default: $" DMAD_PROTO_SOCKET_ENV
		   ", then " DMAD_PROTO_SOCKET_DEFAULT ")\n"
		   "  --json[=pretty|short]\n"
		   "                 print JSON instead of tables (also after COMMAND): one line\n"
		   "                 (--json, --json=short) or indented (--json=pretty)\n"
		   "  --no-legend    print tables without column headers, totals or hints\n"
		   "  -h, --help     show this help (also after COMMAND)\n"
		   "  --version      show dmactl's version\n"
		   "\nExit status:\n"
		   "  0  success\n"
		   "  1  the request failed: dmad refused it (also: at its client limit) or\n"
		   "     answered badly\n"
		   "  2  usage error\n"
		   "  3  dmad is not running, or cannot be reached\n"
		   "  4  permission denied: connecting " DMACTL_CLIENT_WHO ", remove, add,\n"
		   "     fault, log-level and reset-failed need an admin: " DMACTL_ADMIN_WHO "\n");
}

static void command_usage(FILE *f, const struct command *cmd)
{
	fprintf(f, "Usage: " SYNOPSIS " %s%s%s\n%s\n", cmd->name, *cmd->args ? " " : "", cmd->args,
		cmd->description);
	if (cmd->details)
		fprintf(f, "\nOptions:\n%s", cmd->details);
}

static int help_main(struct dmactl *o, int argc, char **argv)
{
	(void)o, (void)argc, (void)argv;
	usage(stdout);
	return DMACTL_EXIT_OK;
}

static void bad_option(const char *where, char **argv)
{
	/* getopt names an unknown short option in optopt, a long one only by its word. */
	if (optopt)
		fprintf(stderr, "dmactl: %sunknown option '-%c'\n", where, optopt);
	else
		fprintf(stderr, "dmactl: %sunknown option '%s'\n", where, argv[optind - 1]);
}

int dmactl_usage_error(const struct dmactl *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dmactl: %s: ", o->command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	command_usage(stderr, find_command(o->command));
	return DMACTL_EXIT_USAGE;
}

/* --json's argument (NULL: none). Returns 0, or -EINVAL after saying why. */
static int parse_json(struct dmactl *o, const char *arg)
{
	if (!arg || !strcmp(arg, "short")) {
		o->json = DMACTL_JSON_SHORT;
	} else if (!strcmp(arg, "pretty")) {
		o->json = DMACTL_JSON_PRETTY;
	} else {
		fprintf(stderr, "dmactl: --json takes pretty or short, not '%s'\n", arg);
		return -EINVAL;
	}
	return 0;
}

#define OPTS_MAX   4   /* a command's own options */
#define OPT_OWN	   256 /* getopt value of its first one, past any character */
#define OPT_COMMON 3   /* --json, --no-legend, --help */

int dmactl_args_upto(struct dmactl *o, int argc, char **argv, const struct dmactl_option *opts,
		     unsigned nopts, unsigned max, char **ret_args, unsigned *ret_nargs)
{
	struct option lopts[OPT_COMMON + OPTS_MAX + 1] = {
		{"json", optional_argument, NULL, 'j'},
		{"no-legend", no_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
	};
	const char *value[OPTS_MAX] = {0};
	char where[64];
	unsigned i;
	int c;

	assert(nopts <= OPTS_MAX);
	for (i = 0; i < nopts; i++)
		lopts[OPT_COMMON + i] =
			(struct option){opts[i].name, required_argument, NULL, (int)(OPT_OWN + i)};

	/* 0, not 1: glibc then forgets its state from the global options. No
	 * '+': operands are moved after the options, so --json may follow them. */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (parse_json(o, optarg) < 0)
				return DMACTL_EXIT_USAGE;
			break;
		case 'L':
			o->no_legend = true;
			break;
		case 'h':
			command_usage(stdout, find_command(o->command));
			return DMACTL_EXIT_OK;
		case ':':
			return dmactl_usage_error(o, "option '%s' needs an argument",
						  argv[optind - 1]);
		case '?':
			snprintf(where, sizeof(where), "%s: ", o->command);
			bad_option(where, argv);
			command_usage(stderr, find_command(o->command));
			return DMACTL_EXIT_USAGE;
		default:
			value[c - OPT_OWN] = optarg;
		}
	}
	if ((unsigned)(argc - optind) > max)
		return dmactl_usage_error(o, "unexpected argument '%s'", argv[optind + max]);

	for (i = 0; i < nopts; i++)
		if (value[i])
			*opts[i].ret_value = value[i];
	*ret_nargs = (unsigned)(argc - optind);
	for (i = 0; i < *ret_nargs; i++)
		ret_args[i] = argv[optind + i];
	return DMACTL_CONTINUE;
}

int dmactl_args(struct dmactl *o, int argc, char **argv, const struct dmactl_option *opts,
		unsigned nopts, unsigned nargs, char **ret_args)
{
	unsigned n;
	int r;

	r = dmactl_args_upto(o, argc, argv, opts, nopts, nargs, ret_args, &n);
	if (r == DMACTL_CONTINUE && n < nargs)
		return dmactl_usage_error(o, "missing argument");
	return r;
}

static int connect_failed(const struct dmactl *o, int r)
{
	const char *hint = "";

	if (r == -EACCES || r == -EPERM)
		hint = " (" DMACTL_CLIENT_WHO ")";
	else if (r == -ENOENT || r == -ECONNREFUSED)
		hint = " (is dmad running?)";
	fprintf(stderr, "dmactl: cannot reach dmad at %s: %s%s\n", o->socket, strerror(-r), hint);
	return r == -EACCES || r == -EPERM ? DMACTL_EXIT_DENIED : DMACTL_EXIT_UNREACHABLE;
}

static int call_failed(const struct dmactl *o, const char *what, int r, int timeout_ms)
{
	switch (r) {
	case -ECONNRESET:
		fprintf(stderr, "dmactl: dmad at %s closed the connection during %s\n", o->socket,
			what);
		return DMACTL_EXIT_UNREACHABLE;
	case -ETIMEDOUT:
		fprintf(stderr, "dmactl: dmad at %s did not answer %s within %d ms\n", o->socket,
			what, timeout_ms);
		return DMACTL_EXIT_FAILED;
	case -EPROTO:
		fprintf(stderr,
			"dmactl: dmad at %s speaks another protocol version than dmactl (%u.%u)\n",
			o->socket, DMAD_PROTO_VERSION_MAJOR, DMAD_PROTO_VERSION_MINOR);
		return DMACTL_EXIT_FAILED;
	case -EBADMSG:
	case -EMSGSIZE:
		fprintf(stderr, "dmactl: bad reply to %s from dmad at %s: %s\n", what, o->socket,
			strerror(-r));
		return DMACTL_EXIT_FAILED;
	default:
		fprintf(stderr, "dmactl: %s: talking to dmad at %s: %s\n", what, o->socket,
			strerror(-r));
		return DMACTL_EXIT_FAILED;
	}
}

static int refused(const char *what, int status)
{
	if (status == -EACCES || status == -EPERM) {
		fprintf(stderr,
			"dmactl: dmad refused %s: %s (needs an admin: " DMACTL_ADMIN_WHO ")\n",
			what, strerror(-status));
		return DMACTL_EXIT_DENIED;
	}
	/* Not "gone", not "denied": dmad runs and says no more for now. */
	if (status == -EDQUOT) {
		fprintf(stderr,
			"dmactl: dmad refused %s: %s: it is at one of its limits (in all, or for "
			"your user); try again once clients have gone\n",
			what, strerror(-status));
		return DMACTL_EXIT_FAILED;
	}
	fprintf(stderr, "dmactl: dmad refused %s: %s\n", what, strerror(-status));
	return DMACTL_EXIT_FAILED;
}

const char *dmactl_reason(const struct ctl_reply *rep, char *buf)
{
	const struct dmad_proto_error *e = rep->body;
	size_t n;

	if (rep->status >= 0 || rep->len < sizeof(*e))
		return NULL;
	n = strnlen(e->text, sizeof(e->text));
	if (!n || n == sizeof(e->text))
		return NULL;
	/* DPDK's words, passed on by dmad: not for a terminal to interpret. */
	for (size_t i = 0; i <= n; i++)
		buf[i] = i == n ? '\0' : isprint((unsigned char)e->text[i]) ? e->text[i] : '?';
	return buf;
}

int dmactl_refused(const struct dmactl *o, int status)
{
	return refused(o->command, status);
}

int dmactl_call(const struct dmactl *o, uint16_t type, const void *req, uint32_t len,
		int timeout_ms, struct ctl_conn **ret_conn, struct ctl_reply *ret_reply)
{
	const struct dmad_proto_hello_req hello = {.name = "dmactl"};
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r, ret = DMACTL_EXIT_OK;

	r = ctl_connect(o->socket, &c);
	if (r < 0)
		return connect_failed(o, r);

	r = ctl_call(c, DMAD_PROTO_HELLO, &hello, sizeof(hello), DMACTL_TIMEOUT_MS, &rep);
	if (r < 0) {
		ret = call_failed(o, "hello", r, DMACTL_TIMEOUT_MS);
	} else if (rep.status == -EDQUOT) {
		fprintf(stderr,
			"dmactl: dmad at %s is running but has as many clients as its limits "
			"allow (in all, or for your user): %s; try again once some have gone\n",
			o->socket, strerror(EDQUOT));
		ret = DMACTL_EXIT_FAILED;
	} else if (rep.status < 0) {
		ret = refused("hello", rep.status);
	} else {
		r = ctl_call(c, type, req, len, timeout_ms, &rep);
		if (r < 0)
			ret = call_failed(o, o->command, r, timeout_ms);
	}
	if (ret != DMACTL_EXIT_OK) {
		ctl_close(c);
		return ret;
	}
	*ret_conn = c;
	*ret_reply = rep;
	return DMACTL_EXIT_OK;
}

int dmactl_request(const struct dmactl *o, uint16_t type, const void *req, uint32_t len,
		   int timeout_ms, struct ctl_conn **ret_conn, struct ctl_reply *ret_reply)
{
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r;

	r = dmactl_call(o, type, req, len, timeout_ms, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status < 0) {
		ctl_close(c);
		return dmactl_refused(o, rep.status);
	}
	*ret_conn = c;
	*ret_reply = rep;
	return DMACTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'}, {"json", optional_argument, NULL, 'j'},
		{"no-legend", no_argument, NULL, 'L'},	  {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	  {0},
	};
	struct dmactl o = {0};
	const struct command *cmd;
	const char *env;
	int c, ret;

	/* dmactl prints its own messages, prefixed "dmactl: ". */
	opterr = 0;
	/* '+': stop at the command, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'j':
			if (parse_json(&o, optarg) < 0)
				return DMACTL_EXIT_USAGE;
			break;
		case 'L':
			o.no_legend = true;
			break;
		case 'h':
			usage(stdout);
			return DMACTL_EXIT_OK;
		case 'V':
			printf("dmactl " DMAD_VERSION " (control protocol %u.%u)\n",
			       DMAD_PROTO_VERSION_MAJOR, DMAD_PROTO_VERSION_MINOR);
			return DMACTL_EXIT_OK;
		case ':':
			fprintf(stderr, "dmactl: option '%s' needs an argument\n",
				argv[optind - 1]);
			return DMACTL_EXIT_USAGE;
		default:
			bad_option("", argv);
			fprintf(stderr, "See 'dmactl help'.\n");
			return DMACTL_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return DMACTL_EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "dmactl: unknown command '%s'; see 'dmactl help'\n", argv[optind]);
		return DMACTL_EXIT_USAGE;
	}

	env = getenv(DMAD_PROTO_SOCKET_ENV);
	if (!o.socket)
		o.socket = env && *env ? env : DMAD_PROTO_SOCKET_DEFAULT;
	o.command = cmd->name;
	ret = cmd->fn(&o, argc - optind, argv + optind);

	/* Output a script reads must not be cut short silently (a full disk). */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dmactl: cannot write output: %s\n", strerror(errno));
		if (ret == DMACTL_EXIT_OK)
			ret = DMACTL_EXIT_FAILED;
	}
	return ret;
}
