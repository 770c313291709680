/* SPDX-License-Identifier: MIT */
/*
 * `dmactl log-level LEVEL`: how much dmad logs from now on, until the next
 * `systemctl reload dmad` (which applies the config file's DMAD_LOG_LEVEL)
 * or the next log-level. `dmactl log-level` alone prints the level, as
 * `systemctl log-level` does: dmad reports it in its STATUS reply, so
 * whoever may read the status may read it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dmad_proto.h"
#include "dmactl.h"
#include "json.h"

/* syslog's numbering, as dmad --log-level and journalctl -p take it. */
static const char *const levels[] = {"emerg",	"alert",  "crit", "err",
				     "warning", "notice", "info", "debug"};

#define NLEVELS (sizeof(levels) / sizeof(levels[0]))
_Static_assert(NLEVELS == LOG_LEVEL_MAX + 1, "one name per level");

const char *log_level_name(int level)
{
	return level >= 0 && level <= LOG_LEVEL_MAX ? levels[level] : "?";
}

/* A level's name ("error" too), or its number. Returns the level or -EINVAL. */
static int parse_level(const char *s)
{
	for (size_t i = 0; i < NLEVELS; i++)
		if (!strcasecmp(s, levels[i]))
			return (int)i;
	if (!strcasecmp(s, "error"))
		return 3;
	if (s[0] >= '0' && s[0] < '0' + (int)NLEVELS && !s[1])
		return s[0] - '0';
	return -EINVAL;
}

static void print_level(const struct dmactl *o, int level, const char *text)
{
	if (o->json) {
		struct json j = DMACTL_JSON(o);

		json_object_begin(&j, NULL);
		json_string(&j, "log_level", levels[level]);
		json_u64(&j, "priority", (uint64_t)level);
		json_object_end(&j);
	} else {
		printf("%s%s\n", text, levels[level]);
	}
}

int loglevel_main(struct dmactl *o, int argc, char **argv)
{
	struct dmad_proto_log_level_req req = {0};
	struct ctl_reply rep;
	struct ctl_conn *c;
	char *arg;
	unsigned n;
	int r, level;

	r = dmactl_args_upto(o, argc, argv, NULL, 0, 1, &arg, &n);
	if (r != DMACTL_CONTINUE)
		return r;
	if (!n) {
		r = status_log_level(o, &level);
		if (r == DMACTL_EXIT_OK)
			print_level(o, level, "");
		return r;
	}
	level = parse_level(arg);
	if (level < 0)
		return dmactl_usage_error(o,
					  "unknown level '%s': use err, warning, notice, info, "
					  "debug, or 0 to 7",
					  arg);
	req.level = (uint32_t)level;

	r = dmactl_request(o, DMAD_PROTO_LOG_LEVEL, &req, sizeof(req), DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	print_level(o, level, "dmad log level set to ");
	ctl_close(c);
	return DMACTL_EXIT_OK;
}
