/* SPDX-License-Identifier: MIT */
/* The daemon's one global state, and what it starts with. */
#include <stdlib.h>

#include "admin.h"
#include "daemon.h"

struct dmad dmad;

/* What dmad runs with before its options and config file say otherwise. */
void config_defaults(void)
{
	dmad.cfg.socket_path = getenv(DMAD_PROTO_SOCKET_ENV);
	if (!dmad.cfg.socket_path || !*dmad.cfg.socket_path)
		dmad.cfg.socket_path = DMAD_PROTO_SOCKET_DEFAULT;
	dmad.cfg.engines = 2;
	dmad.cfg.workers = 1;
	dmad.stripe_min = UINT64_MAX; /* main() sets it once the engines are calibrated */
	dmad.cfg.drain_timeout_ms = 5000;
	dmad.cfg.max_regions = 256;
	dmad.cfg.max_channels = 64;
	dmad.cfg.max_bytes_mapped = 64ull << 30;
	/* Derived from the kernel's limits by limits_init(), unless options set them. */
	for (int k = 0; k < QUOTA_KINDS; k++)
		dmad.cfg.limit[k] = dmad.cfg.user_limit[k] = QUOTA_UNLIMITED;
	/* Looked up by admin_init() once the options may have named another. */
	dmad.cfg.admin_group = ADMIN_GROUP_DEFAULT;
}
