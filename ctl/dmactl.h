/* SPDX-License-Identifier: MIT */
/*
 * What dmactl's commands share: global options, exit statuses a script can
 * rely on, and one call that reaches the daemon and reports any failure.
 * A command is a function in its own file plus one entry in dmactl.c's table.
 */
#ifndef CTL_DMACTL_H
#define CTL_DMACTL_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "transport.h"

enum {
	DMACTL_EXIT_OK = 0,
	DMACTL_EXIT_FAILED = 1,	     /* dmad refused or failed the request */
	DMACTL_EXIT_USAGE = 2,	     /* bad command line */
	DMACTL_EXIT_UNREACHABLE = 3, /* dmad not running, or it went away */
	DMACTL_EXIT_DENIED = 4,	     /* not allowed: see DMACTL_ADMIN_WHO */
};

/* Who may connect, and who may make admin requests, for messages. */
#define DMACTL_CLIENT_WHO "needs group dma"
#define DMACTL_ADMIN_WHO  "root, dmad's own user or group dma-admin"

/* dmactl_args() returns this when the command should go on. */
#define DMACTL_CONTINUE (-1)

/* How long a plain request may take before dmactl gives up on the daemon. */
#define DMACTL_TIMEOUT_MS 10000

/* --json: off (tables), --json or --json=short (one line), --json=pretty. */
enum dmactl_json {
	DMACTL_JSON_OFF,
	DMACTL_JSON_SHORT,
	DMACTL_JSON_PRETTY,
};

struct dmactl {
	const char *socket;    /* --socket, $DMAD_SOCKET or the default */
	const char *command;   /* argv[0] of the command, for messages */
	enum dmactl_json json; /* DMACTL_JSON_OFF is 0: `if (o->json)` asks "JSON?" */
	bool no_legend;	       /* --no-legend: table rows only */
};

/* The JSON writer for what the command prints, as --json asked for it. */
#define DMACTL_JSON(o) JSON_INIT(stdout, (o)->json == DMACTL_JSON_PRETTY)

/* A command's own option, which takes a value: remove's --timeout MS. */
struct dmactl_option {
	const char *name;
	const char **ret_value; /* set to the option's argument, left alone without it */
};

/*
 * dmactl_args() - parse a command's arguments: the common options (--json,
 * --no-legend, --help), the @nopts options of @opts, and exactly @nargs
 * operands, stored in ret_args[]. Options may come before or after the
 * operands. Returns DMACTL_CONTINUE, or the exit status after printing the
 * command's usage.
 */
int dmactl_args(struct dmactl *o, int argc, char **argv, const struct dmactl_option *opts,
		unsigned nopts, unsigned nargs, char **ret_args);

/*
 * dmactl_args_upto() - dmactl_args() for a command whose operands are
 * optional: up to @max of them, their number stored in *ret_nargs.
 */
int dmactl_args_upto(struct dmactl *o, int argc, char **argv, const struct dmactl_option *opts,
		     unsigned nopts, unsigned max, char **ret_args, unsigned *ret_nargs);

/*
 * dmactl_usage_error() - print "dmactl: COMMAND: " and the message, then the
 * command's usage, to stderr. Returns DMACTL_EXIT_USAGE.
 */
int dmactl_usage_error(const struct dmactl *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * dmactl_call() - connect, say HELLO, send one request and wait up to
 * @timeout_ms for its reply. Returns DMACTL_EXIT_OK with *ret_conn (to
 * ctl_close() once done with the body) and *ret_reply set when dmad
 * answered, even with a refusal (ret_reply->status < 0): the command words
 * the refusals it expects and leaves the rest to dmactl_refused(). Any other
 * failure is printed to stderr and its exit status returned.
 */
int dmactl_call(const struct dmactl *o, uint16_t type, const void *req, uint32_t len,
		int timeout_ms, struct ctl_conn **ret_conn, struct ctl_reply *ret_reply);

/*
 * dmactl_refused() - print that dmad refused the command with @status
 * (-errno). Returns DMACTL_EXIT_DENIED for -EACCES and -EPERM, else
 * DMACTL_EXIT_FAILED.
 */
int dmactl_refused(const struct dmactl *o, int status);

/*
 * dmactl_reason() - the words a refusal carries (dmad_proto_error, since
 * protocol 1.3), with anything but printable ASCII shown as '?', in @buf
 * (DMAD_PROTO_ERROR_MAX bytes). NULL when it carries none, or a body that
 * is not one: too short, empty, or without its NUL.
 */
const char *dmactl_reason(const struct ctl_reply *rep, char *buf);

/*
 * dmactl_request() - dmactl_call() for a command that expects no refusal:
 * one is printed by dmactl_refused() and its exit status returned.
 */
int dmactl_request(const struct dmactl *o, uint16_t type, const void *req, uint32_t len,
		   int timeout_ms, struct ctl_conn **ret_conn, struct ctl_reply *ret_reply);

/* syslog's priorities by name, as dmad --log-level and journalctl -p take them. */
#define LOG_LEVEL_MAX 7 /* debug */
const char *log_level_name(int level);

/*
 * status_log_level() - ask dmad (STATUS) for its log level. Returns
 * DMACTL_EXIT_OK with *ret_level set, or the exit status after saying why
 * not, also for a dmad too old to tell.
 */
int status_log_level(struct dmactl *o, int *ret_level);

/*
 * shares.c: SHARES, for status. shares_fetch() returns DMACTL_EXIT_OK with
 * *ret filled (empty from a dmad that does not know the request), or the
 * exit status after saying why not; shares_free() after use.
 */
struct shares {
	struct ctl_conn *conn;
	const struct dmad_proto_share_client *client;
	const struct dmad_proto_share_uid *uid;
	const struct dmad_proto_share_unit *unit; /* protocol 1.8 */
	uint32_t nclient, nuid, nunit;
};
int shares_fetch(struct dmactl *o, struct shares *ret);
void shares_print(const struct shares *s, bool no_legend);
void shares_json(struct json *j, const struct shares *s);
void shares_free(struct shares *s);

/* Commands: argv[0] is the command's name. Each returns an exit status. */
int status_main(struct dmactl *o, int argc, char **argv);
int clients_main(struct dmactl *o, int argc, char **argv);
int remove_main(struct dmactl *o, int argc, char **argv);
int add_main(struct dmactl *o, int argc, char **argv);
int fault_main(struct dmactl *o, int argc, char **argv);
int flows_main(struct dmactl *o, int argc, char **argv);
int loglevel_main(struct dmactl *o, int argc, char **argv);
int reset_failed_main(struct dmactl *o, int argc, char **argv);
int monitor_main(struct dmactl *o, int argc, char **argv);
int metrics_main(struct dmactl *o, int argc, char **argv);
int set_main(struct dmactl *o, int argc, char **argv);
int restart_main(struct dmactl *o, int argc, char **argv);

#endif /* CTL_DMACTL_H */
