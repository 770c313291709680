/* SPDX-License-Identifier: MIT */
/*
 * The config file is the EnvironmentFile the service reads too, so one file
 * holds both the start-up options (DMAD_OPTS=, read by systemd for
 * ExecStart=) and the live settings read here:
 *
 *   DMAD_LOG_LEVEL=info		err, warning, notice, info, debug
 *   DMAD_COPYBREAK=4096		bytes; empty: the calibrated value
 *   DMAD_WATCHDOG_MS=100
 *   DMAD_DRAIN_TIMEOUT_MS=5000
 *   DMAD_UNIT_SHARE="backup.service:weight=50,rate=200M ingest.service:weight=300"
 *
 * KEY=VALUE lines, the value optionally in quotes, # or ; comments. Keys
 * dmad does not know are left to whoever reads them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "device.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "share.h"
#include "share_unit.h"

struct settings {
	unsigned set; /* which of the values below the file named */
	int log_level;
	uint32_t copybreak;
	uint32_t watchdog_ms;
	uint32_t drain_timeout_ms;
	char unit_share[1024]; /* DMAD_UNIT_SHARE, checked; "": none */
};

static const struct key {
	const char *name;
	const char *option; /* the command line's way of saying it */
	unsigned bit;
	uint32_t min, max; /* numeric keys */
} keys[] = {
	{"DMAD_LOG_LEVEL", "--log-level", RELOAD_LOG_LEVEL, 0, 0},
	{"DMAD_COPYBREAK", "--copybreak", RELOAD_COPYBREAK, 0, UINT32_MAX},
	{"DMAD_WATCHDOG_MS", "--watchdog-ms", RELOAD_WATCHDOG, 1, 3600000},
	{"DMAD_DRAIN_TIMEOUT_MS", "--drain-timeout-ms", RELOAD_DRAIN_TIMEOUT, 1, 3600000},
};

static struct {
	const char *path;
	unsigned pinned;
	struct settings start; /* built-in defaults and the command line */
	struct settings file;  /* what the file said when last read without error */
	bool copybreak_known;  /* calibration done: start.copybreak is real */
} rl;

int config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	/* Decimal only: base 0 read "0100" as 64. And digits first: strtoull()
	 * would skip blanks and take a sign. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* Store @value for @k in @s. Returns 0 or -EINVAL. */
static int set_key(struct settings *s, const struct key *k, const char *value)
{
	int r = 0;

	switch (k->bit) {
	case RELOAD_LOG_LEVEL:
		r = log_parse_level(value);
		s->log_level = r;
		break;
	case RELOAD_COPYBREAK:
		r = config_parse_u32(value, k->min, k->max, &s->copybreak);
		break;
	case RELOAD_WATCHDOG:
		r = config_parse_u32(value, k->min, k->max, &s->watchdog_ms);
		break;
	case RELOAD_DRAIN_TIMEOUT:
		r = config_parse_u32(value, k->min, k->max, &s->drain_timeout_ms);
		break;
	}
	if (r < 0)
		return -EINVAL;
	s->set |= k->bit;
	return 0;
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && strchr(" \t\r\n", end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* One "KEY=VALUE" line (already trimmed, not a comment). */
static int parse_line(struct settings *s, char *line, unsigned lineno)
{
	char *eq = strchr(line, '='), *name, *value;
	size_t n;

	if (!eq)
		return log_error_errno(-EINVAL, "%s:%u: expected KEY=VALUE, not '%s'", rl.path,
				       lineno, line);
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	n = strlen(value);
	if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
		value[n - 1] = '\0';
		value++;
	}
	if (!strcmp(name, "DMAD_UNIT_SHARE")) {
		char where[512];

		snprintf(where, sizeof(where), "%s:%u", rl.path, lineno);
		if (share_units_parse(value, where, false) < 0)
			return -EINVAL;
		snprintf(s->unit_share, sizeof(s->unit_share), "%s", value);
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(name, keys[i].name))
			continue;
		/* Empty, as in the shipped file: the default. */
		if (!*value)
			return 0;
		if (set_key(s, &keys[i], value) < 0)
			return log_error_errno(-EINVAL, "%s:%u: %s=%s is not a valid value",
					       rl.path, lineno, name, value);
		if (rl.pinned & keys[i].bit)
			log_notice("%s:%u: %s is overridden by %s on the command line", rl.path,
				   lineno, name, keys[i].option);
		return 0;
	}
	return 0;
}

static int read_file(struct settings *ret)
{
	struct settings s = {0};
	unsigned lineno = 0;
	char buf[1024];
	int r = 0;
	FILE *f;

	if (!rl.path) {
		*ret = s;
		return 0;
	}
	f = fopen(rl.path, "re");
	if (!f) {
		/* Like EnvironmentFile=-: no file, nothing to change. */
		if (errno == ENOENT) {
			*ret = s;
			return 0;
		}
		return log_error_errno(-errno, "cannot read %s: %m", rl.path);
	}
	while (r == 0 && fgets(buf, sizeof(buf), f)) {
		bool whole = strchr(buf, '\n') || feof(f);
		char *line = trim(buf);

		lineno++;
		if (!whole)
			r = log_error_errno(-EINVAL, "%s:%u: line longer than %zu bytes", rl.path,
					    lineno, sizeof(buf) - 2);
		else if (*line && *line != '#' && *line != ';')
			r = parse_line(&s, line, lineno);
	}
	if (r == 0 && ferror(f))
		r = log_error_errno(-EIO, "cannot read %s: %m", rl.path);
	fclose(f);
	if (r == 0)
		*ret = s;
	return r;
}

/* The file's value where it named one and the command line did not. */
#define PICK(bit, field) ((rl.file.set & ~rl.pinned & (bit)) ? rl.file.field : rl.start.field)

static void apply(void)
{
	log_max_level = PICK(RELOAD_LOG_LEVEL, log_level);
	dmad.cfg.watchdog_ms = PICK(RELOAD_WATCHDOG, watchdog_ms);
	for (unsigned i = 0; i < dmad.ndev; i++)
		dmad.devs[i]->watchdog_ms = device_watchdog_ms(dmad.devs[i]);
	/* Read at each removal: nothing more to do. */
	dmad.cfg.drain_timeout_ms = PICK(RELOAD_DRAIN_TIMEOUT, drain_timeout_ms);
	/* New channels and HELLO replies; channels that exist keep theirs. */
	if (rl.copybreak_known)
		dmad.copybreak = PICK(RELOAD_COPYBREAK, copybreak);
	/* Only the file says it; checked when read. */
	share_set_units(rl.file.unit_share, rl.path ? rl.path : "DMAD_UNIT_SHARE");
}

int reload_init(const char *path, unsigned pinned)
{
	int r;

	rl.path = path;
	rl.pinned = pinned;
	rl.start = (struct settings){
		.log_level = log_max_level,
		.watchdog_ms = dmad.cfg.watchdog_ms,
		.drain_timeout_ms = dmad.cfg.drain_timeout_ms,
	};
	r = read_file(&rl.file);
	if (r < 0)
		return r;
	apply();
	return 0;
}

void reload_copybreak_start(void)
{
	rl.start.copybreak = dmad.copybreak;
	rl.copybreak_known = true;
	apply();
}

void reload(void)
{
	const struct log_about about = {.event = "reload"};
	struct settings s;

	notify_reloading();
	if (read_file(&s) < 0) {
		log_about_printf(LOG_ERR, 0, &about, "reload: keeping the current settings");
	} else {
		char wd[32] = "the default";

		rl.file = s;
		apply();
		if (dmad.cfg.watchdog_ms)
			snprintf(wd, sizeof(wd), "%u ms", dmad.cfg.watchdog_ms);
		log_about_printf(LOG_NOTICE, 0, &about,
				 "reloaded %s: log level %s, copybreak %u bytes for new channels, "
				 "device watchdog %s, drain timeout %u ms",
				 rl.path ? rl.path : "(no --config file)",
				 log_level_name(log_max_level), dmad.copybreak, wd,
				 dmad.cfg.drain_timeout_ms);
	}
	notify_reloaded();
}
