/* SPDX-License-Identifier: MIT */
/* The STATUS reply: devices, clients, channels, as dmactl shows them, the
 * daemon's own settings (dmad_proto_status_tail), quotas, totals since
 * start and the released devices (retired.h). */
#ifndef DMAD_STATUS_H
#define DMAD_STATUS_H

#include <stddef.h>
#include <stdint.h>

struct client;

/*
 * status_build() - fill @buf (at most @size bytes) with what @viewer may
 * see: every device, and every client and channel for an admin, only its
 * own otherwise; then what its uid (and, for an admin, everyone) holds
 * against the limits; then every engine's counters since start and the
 * released devices' records. @size must leave room for that much at least.
 * Returns bytes used.
 */
uint32_t status_build(uint8_t *buf, size_t size, const struct client *viewer);

/* status_build_all() - status_build() for a viewer that sees everything and
 * is no client itself: what dmad's own exports (metrics, telemetry) show. */
uint32_t status_build_all(uint8_t *buf, size_t size);

#endif /* DMAD_STATUS_H */
