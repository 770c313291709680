/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-login.h>

#include "log.h"
#include "share_unit.h"

static struct unit_share units[SHARE_UNITS_MAX];
static unsigned nunits;

/* systemd's unit name characters; the type suffix after the last dot. */
static bool name_valid(const char *s, size_t n)
{
	const char *dot = memrchr(s, '.', n);

	if (!n || n >= DMAD_PROTO_UNIT_MAX || !dot || dot == s || dot == s + n - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@",
			    s[i]))
			return false;
	return true;
}

void share_unit_of_pid(pid_t pid, char ret[DMAD_PROTO_UNIT_MAX])
{
	char *unit = NULL;

	ret[0] = '\0';
	/* sd_pid_get_unit(0) would answer for dmad itself. */
	if (pid <= 0 || sd_pid_get_unit(pid, &unit) < 0)
		return;
	if (strlen(unit) < DMAD_PROTO_UNIT_MAX)
		strcpy(ret, unit);
	free(unit);
}

static struct unit_share *slot(const char *name)
{
	for (unsigned i = 0; i < nunits; i++)
		if (!strcmp(units[i].name, name))
			return &units[i];
	return NULL;
}

const struct unit_share *share_unit_find(const char *name)
{
	const struct unit_share *u = *name ? slot(name) : NULL;

	return u && (u->weight || u->rate.bps) ? u : NULL;
}

bool share_units_any(void)
{
	for (unsigned i = 0; i < nunits; i++)
		if (units[i].weight || units[i].rate.bps)
			return true;
	return false;
}

const struct unit_share *share_unit_at(unsigned i)
{
	return i < nunits ? &units[i] : NULL;
}

int share_units_parse(const char *list, const char *where, bool apply)
{
	char buf[1024], *entry, *save = NULL;
	unsigned fresh = 0;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return log_error_errno(-EINVAL, "%s: DMAD_UNIT_SHARE is longer than %zu bytes",
				       where, sizeof(buf) - 1);
	if (apply)
		for (unsigned i = 0; i < nunits; i++) {
			units[i].weight = 0;
			rate_set(&units[i].rate, 0);
		}
	for (entry = strtok_r(buf, " \t", &save); entry; entry = strtok_r(NULL, " \t", &save)) {
		/* Unit names may hold ':' themselves; the settings never do. */
		char *colon = strrchr(entry, ':');
		struct share_setting set;
		struct unit_share *u;

		if (!colon || !name_valid(entry, (size_t)(colon - entry)) ||
		    share_parse_setting(colon + 1, &set) < 0)
			return log_error_errno(
				-EINVAL,
				"%s: DMAD_UNIT_SHARE entry '%s': expected UNIT:weight=N,rate=N (a "
				"systemd unit name such as backup.service; weight %u..%u; rate "
				"in bytes/s, K, M, G or T, 0 for none)",
				where, entry, DMAD_PROTO_SHARE_WEIGHT_MIN,
				DMAD_PROTO_SHARE_WEIGHT_MAX);
		*colon = '\0';
		u = slot(entry);
		if (!u && nunits + fresh >= SHARE_UNITS_MAX)
			return log_error_errno(-ENOSPC,
					       "%s: DMAD_UNIT_SHARE: more than %d units ever named",
					       where, SHARE_UNITS_MAX);
		if (!apply) {
			fresh += !u;
			continue;
		}
		if (!u) {
			u = &units[nunits++];
			snprintf(u->name, sizeof(u->name), "%s", entry);
		}
		if (set.weight)
			u->weight = set.weight;
		if (set.has_rate)
			rate_set(&u->rate, set.rate);
	}
	return 0;
}
