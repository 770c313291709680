/* SPDX-License-Identifier: MIT */
/* Starting DPDK's EAL with what dmad needs, plus what the operator added. */
#ifndef DMAD_EAL_H
#define DMAD_EAL_H

/*
 * eal_start() - rte_eal_init() with: no hugepages, no shared config, IOVA
 * as VA, one lcore per worker plus the control thread floating over the
 * CPUs we may run on, and @engines dma_skeleton vdevs when @user_argv names
 * no device. Runtime files (the telemetry socket) under $RUNTIME_DIRECTORY,
 * else under @dir: DIR/dpdk/rte/dpdk_telemetry.v2 (@dir NULL: no
 * telemetry). @user_argv
 * (NULL-terminated, may be empty) is appended and wins (--no-telemetry,
 * --file-prefix). Returns 0 or a negative errno.
 */
int eal_start(const char *prog, unsigned workers, unsigned engines, const char *dir,
	      char **user_argv);

/* eal_stop() - rte_eal_cleanup(), then remove what EAL left in the runtime
 * directory. */
void eal_stop(void);

#endif /* DMAD_EAL_H */
