/* SPDX-License-Identifier: MIT */
/* DPDK's own log lines, through dmad's logger (log.h). */
#ifndef DMAD_LOG_DPDK_H
#define DMAD_LOG_DPDK_H

#include <stddef.h>

/*
 * log_dpdk_init() - make DPDK write its log through log_printf(): dmad's
 * prefix or journal fields, a severity from the message's DPDK level, and
 * dmad's log level on top of DPDK's own. Before rte_eal_init(), so that
 * EAL's messages come the same way. Returns 0 or -ENOMEM.
 */
int log_dpdk_init(void);

/*
 * log_dpdk_capture() - until called again with NULL, the first error DPDK
 * logs on this thread is also copied into @buf (@size bytes, NUL-terminated;
 * emptied now): what a failed probe said, for the one who asked for it.
 */
void log_dpdk_capture(char *buf, size_t size);

#endif /* DMAD_LOG_DPDK_H */
