/* SPDX-License-Identifier: MIT */
/*
 * dmad's own commands in DPDK telemetry, beside DPDK's /dmadev/...:
 * /dmad/status (totals and every device) and /dmad/clients (every client),
 * for dpdk-telemetry.py and Telegraf's dpdk input, on the socket EAL opens
 * in dmad's runtime directory (eal.h).
 */
#ifndef DMAD_TELEMETRY_H
#define DMAD_TELEMETRY_H

/* telemetry_init() - register the commands; after eal_start(). A failure
 * is logged and leaves DPDK's own commands working. */
void telemetry_init(void);

/* telemetry_start() - answer commands from now on; from control_run() once
 * its loop is up (control_watch()). */
void telemetry_start(void);

#endif /* DMAD_TELEMETRY_H */
