/* SPDX-License-Identifier: MIT */
/*
 * The two tiers of DESIGN.md's Security section. Anyone who can connect is
 * a client: channels, regions, flows, and read-only status of the devices
 * and of its own sessions. Admins may also remove, add and fault devices,
 * set the log level, and see every client's details. An admin is root,
 * dmad's own effective user, or a member (primary group or SO_PEERGROUPS)
 * of the admin group, dma-admin unless --admin-group says otherwise. The
 * socket's group (dma) only lets a process connect: it makes no admin.
 */
#ifndef DMAD_ADMIN_H
#define DMAD_ADMIN_H

#include <stdbool.h>
#include <sys/socket.h>

#define ADMIN_GROUP_DEFAULT "dma-admin"
#define SOCKET_GROUP	    "dma"

/*
 * admin_init() - look dmad.cfg.admin_group up, once, after the options:
 * a group name, else a number taken as a gid (as chown(1) does). A group
 * that does not exist grants nothing: then only root and dmad's own user
 * are admins.
 */
void admin_init(void);

/* admin_peer() - is the peer of @fd, whose SO_PEERCRED is @cred, an admin? */
bool admin_peer(int fd, const struct ucred *cred);

#endif /* DMAD_ADMIN_H */
