/* SPDX-License-Identifier: MIT */
/* Starting DPDK's EAL with what dmad needs, plus what the operator added. */
#ifndef DMAD_EAL_H
#define DMAD_EAL_H

/*
 * eal_start() - rte_eal_init() with: no hugepages, no shared config, no
 * telemetry, IOVA as VA, one lcore per worker plus the control thread
 * floating over the CPUs we may run on, and @engines dma_skeleton vdevs when
 * @user_argv names no device. @user_argv (NULL-terminated, may be empty) is
 * appended and wins. Returns 0 or a negative errno.
 */
int eal_start(const char *prog, unsigned workers, unsigned engines, char **user_argv);

#endif /* DMAD_EAL_H */
