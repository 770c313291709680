/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "daemon.h"
#include "quota_limits.h"
#include "log.h"

#define MAX_MAP_COUNT	 "/proc/sys/vm/max_map_count"
#define MAP_COUNT_KERNEL 65530 /* the kernel's default, when /proc says nothing */
/* Address space for client memory in all. Far below the 128 TiB of user
 * space even after ASan's shadow and DPDK's reservations; what it maps
 * costs no memory until touched (and then whoever touches it pays). */
#define BYTES_DEFAULT (16ull << 40)
#define FDS_HEADROOM  256 /* at least: EAL, io_uring, logs, XDP sockets, refused clients */

/* A number with an optional binary suffix: 64K, 16G. */
static int parse_size(const char *s, uint64_t *ret)
{
	static const char suffixes[] = "KMGT";
	unsigned long long v;
	const char *p;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end) {
		p = strchr(suffixes, *end);
		if (!p || end[1])
			return -EINVAL;
		for (long i = 0; i <= p - suffixes; i++) {
			if (v > UINT64_MAX / 1024)
				return -EINVAL;
			v *= 1024;
		}
	}
	*ret = v;
	return 0;
}

static int kind_by_name(const char *name, size_t len)
{
	for (int k = 0; k < QUOTA_KINDS; k++)
		if (strlen(quota_kind_name(k)) == len && !strncmp(quota_kind_name(k), name, len))
			return k;
	return -1;
}

/* Walk "KIND=N,...", calling @set for each; -EINVAL, logged, on the first bad one. */
static int parse_list(const char *option, const char *arg,
		      int (*set)(int kind, uint64_t v, void *ctx), void *ctx)
{
	const char *p = arg;

	if (!*p)
		return log_error_errno(-EINVAL, "%s takes KIND=N[,KIND=N...], not an empty list",
				       option);
	while (*p) {
		const char *eq = strchr(p, '='), *end = strchrnul(p, ',');
		char value[32];
		size_t vlen;
		uint64_t v;
		int k;

		if (!eq || eq > end || (vlen = (size_t)(end - eq - 1)) >= sizeof(value))
			return log_error_errno(-EINVAL, "%s: '%.*s' is not KIND=N", option,
					       (int)(end - p), p);
		k = kind_by_name(p, (size_t)(eq - p));
		if (k < 0)
			return log_error_errno(-EINVAL,
					       "%s: unknown kind '%.*s' (clients, regions, "
					       "channels, maps, bytes, fds)",
					       option, (int)(eq - p), p);
		memcpy(value, eq + 1, vlen);
		value[vlen] = '\0';
		if (parse_size(value, &v) < 0)
			return log_error_errno(-EINVAL, "%s: %s takes a number, not '%s'", option,
					       quota_kind_name(k), value);
		if (set(k, v, ctx) < 0)
			return log_error_errno(-EINVAL, "%s: no limit on %s here", option,
					       quota_kind_name(k));
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int set_limit(int kind, uint64_t v, void *ctx)
{
	((uint64_t *)ctx)[kind] = v;
	return 0;
}

int limits_parse(const char *option, const char *arg, uint64_t limits[QUOTA_KINDS])
{
	return parse_list(option, arg, set_limit, limits);
}

static int set_client(int kind, uint64_t v, void *ctx)
{
	(void)ctx;
	switch (kind) {
	case QUOTA_REGIONS:
		dmad.cfg.max_regions = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		return 0;
	case QUOTA_CHANNELS:
		dmad.cfg.max_channels = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		return 0;
	case QUOTA_BYTES:
		dmad.cfg.max_bytes_mapped = v;
		return 0;
	}
	return -EINVAL;
}

int limits_parse_client(const char *arg)
{
	return parse_list("--client-limit", arg, set_client, NULL);
}

static uint64_t max_map_count(void)
{
	unsigned long long v = 0;
	FILE *f = fopen(MAX_MAP_COUNT, "re");

	if (!f || fscanf(f, "%llu", &v) != 1 || !v)
		v = MAP_COUNT_KERNEL;
	if (f)
		fclose(f);
	return v;
}

/* The fds dmad may open: the soft limit, raised to the hard one first. */
static uint64_t nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	/* Each client holds a socket, each channel a ring memfd and an eventfd:
	 * the default soft limit (1024) is a few hundred clients. */
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = {rl.rlim_max, rl.rlim_max};

		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl.rlim_cur = rl.rlim_max;
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : rl.rlim_cur;
}

static uint64_t address_space(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 2 < BYTES_DEFAULT)
		return rl.rlim_cur / 2;
	return BYTES_DEFAULT;
}

static void set_default(uint64_t *limit, uint64_t v)
{
	if (*limit == QUOTA_UNLIMITED)
		*limit = v ? v : 1;
}

/* "123", or "-" for no limit of its own. */
static const char *fmt(char buf[24], uint64_t v)
{
	if (v == QUOTA_UNLIMITED)
		return "-";
	snprintf(buf, 24, "%llu", (unsigned long long)v);
	return buf;
}

void limits_init(void)
{
	uint64_t *all = dmad.cfg.limit, *user = dmad.cfg.user_limit;
	uint64_t maps = max_map_count(), files = nofile(), headroom;
	char a[6][24], u[6][24];

	/* Half the kernel's mappings: the other half is dmad's own (about a
	 * thousand at rest, more under ASan, per malloc arena and thread) and
	 * room for them to grow. */
	set_default(&all[QUOTA_MAPS], maps / 2);
	/* An eighth of the fds, 256 at least, stays dmad's: its own, the admin
	 * reserve, and connections refused with EDQUOT until they close. */
	headroom = files / 8 > FDS_HEADROOM ? files / 8 : FDS_HEADROOM;
	set_default(&all[QUOTA_FDS], files > 2 * headroom ? files - headroom : files / 2);
	/* A client is a socket and, typically, a channel or more (two fds each). */
	set_default(&all[QUOTA_CLIENTS], all[QUOTA_FDS] / 4);
	set_default(&all[QUOTA_BYTES], address_space());
	/* No one user may take it all: the others keep half. Regions and
	 * channels have no limit of their own unless given one: maps and fds
	 * bound them. */
	for (int k = 0; k < QUOTA_KINDS; k++)
		if (k != QUOTA_REGIONS && k != QUOTA_CHANNELS)
			set_default(&user[k], all[k] / 2);

	log_info("limits in all (per user): %s (%s) clients, %s (%s) maps, %s (%s) regions, "
		 "%s (%s) channels, %s (%s) fds, %s (%s) bytes mapped; vm.max_map_count %llu, "
		 "RLIMIT_NOFILE %llu",
		 fmt(a[0], all[QUOTA_CLIENTS]), fmt(u[0], user[QUOTA_CLIENTS]),
		 fmt(a[1], all[QUOTA_MAPS]), fmt(u[1], user[QUOTA_MAPS]),
		 fmt(a[2], all[QUOTA_REGIONS]), fmt(u[2], user[QUOTA_REGIONS]),
		 fmt(a[3], all[QUOTA_CHANNELS]), fmt(u[3], user[QUOTA_CHANNELS]),
		 fmt(a[4], all[QUOTA_FDS]), fmt(u[4], user[QUOTA_FDS]), fmt(a[5], all[QUOTA_BYTES]),
		 fmt(u[5], user[QUOTA_BYTES]), (unsigned long long)maps, (unsigned long long)files);
	if (all[QUOTA_MAPS] > maps || all[QUOTA_FDS] > files)
		log_warning("limits above the kernel's: at them, dmad itself fails to map or "
			    "open, and every client with it");
}
