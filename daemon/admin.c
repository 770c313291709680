/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include "admin.h"
#include "daemon.h"
#include "log.h"

/* A whole decimal number that can be a gid ((gid_t)-1 is "no group" to the kernel). */
static bool parse_gid(const char *s, gid_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v >= (gid_t)-1)
		return false;
	*ret = (gid_t)v;
	return true;
}

void admin_init(void)
{
	const char *name = dmad.cfg.admin_group;
	struct group *g;
	gid_t gid;

	dmad.cfg.admin_gid_valid = false;
	if (!name || !*name) {
		log_info("no admin group: admins are root and dmad's own user");
		return;
	}
	g = getgrnam(name);
	if (g) {
		gid = g->gr_gid;
	} else if (!parse_gid(name, &gid)) {
		log_notice("admin group %s does not exist: admins are root and dmad's own user",
			   name);
		return;
	}
	dmad.cfg.admin_gid = gid;
	dmad.cfg.admin_gid_valid = true;
	/* Whoever may connect would be an admin: allowed, but surely not meant. */
	g = getgrnam(SOCKET_GROUP);
	if (g && g->gr_gid == gid)
		log_warning("admin group %s is the socket's group %s: every client is an admin",
			    name, SOCKET_GROUP);
}

/* Is @gid among the peer's supplementary groups, as they were at connect()? */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* More groups than fit: the kernel said how many bytes it needs. */
		if (errno != ERANGE || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == gid;
	if (groups != small)
		free(groups);
	return found;
}

bool admin_peer(int fd, const struct ucred *cred)
{
	/* SO_PEERCRED holds the effective ids at connect(). */
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	/* No group, no comparison: an unset gid would be root's group 0. */
	if (!dmad.cfg.admin_gid_valid)
		return false;
	return cred->gid == dmad.cfg.admin_gid || peer_in_group(fd, dmad.cfg.admin_gid);
}
