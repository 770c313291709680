/* SPDX-License-Identifier: MIT */
/* The daemon's one global state, and what it starts with. */
#include <grp.h>
#include <stdlib.h>

#include "daemon.h"

struct dmad dmad;

/* What dmad runs with before its options and config file say otherwise. */
void config_defaults(void)
{
	struct group *g = getgrnam("dma");

	dmad.cfg.socket_path = getenv(DMAD_PROTO_SOCKET_ENV);
	if (!dmad.cfg.socket_path || !*dmad.cfg.socket_path)
		dmad.cfg.socket_path = DMAD_PROTO_SOCKET_DEFAULT;
	dmad.cfg.engines = 2;
	dmad.cfg.workers = 1;
	dmad.cfg.drain_timeout_ms = 5000;
	dmad.cfg.max_regions = 256;
	dmad.cfg.max_channels = 64;
	dmad.cfg.max_bytes_mapped = 64ull << 30;
	if (g) {
		dmad.cfg.admin_gid = g->gr_gid;
		dmad.cfg.admin_gid_valid = 1;
	}
}
