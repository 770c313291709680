/* SPDX-License-Identifier: MIT */
/* The STATUS reply: devices, clients, channels, as dmactl shows them, and
 * the daemon's own settings (dmad_proto_status_tail). */
#ifndef DMAD_STATUS_H
#define DMAD_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* status_build() - fill @buf (at most @size bytes, more than the tail);
 * returns bytes used. */
uint32_t status_build(uint8_t *buf, size_t size);

#endif /* DMAD_STATUS_H */
