/* SPDX-License-Identifier: MIT */
/*
 * Where a channel goes: the ONLINE engine that copied the fewest bytes over
 * about the last second (recent load, not channel count: one busy channel
 * weighs more than ten idle ones), on the client's NUMA node when engines
 * say where they are. Control thread.
 */
#ifndef DMAD_PLACE_H
#define DMAD_PLACE_H

#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

/* No NUMA node known (DPDK's SOCKET_ID_ANY). */
#define PLACE_NODE_ANY (-1)

/* place_tick() - sample each engine's bytes; from the control tick, @now_ms monotonic. */
void place_tick(uint64_t now_ms);

/* place_load() - @d's bytes per second over about the last second. */
uint64_t place_load(const struct device *d);

/*
 * place_pick() - the ONLINE device with @caps of least recent load, among
 * those on @node if any is (PLACE_NODE_ANY: any); ties go to the one with
 * fewer channels. NULL when no device is ONLINE.
 */
struct device *place_pick(uint32_t caps, int node);

/*
 * place_chan() - where a new client channel goes: place_pick(), else, with
 * --engines cpu, dmad's CPU engine (its worker copies), else NULL (the
 * library copies).
 */
struct device *place_chan(uint32_t caps, int node);

/* place_node_of_pid() - the NUMA node of the CPU @pid last ran on, or PLACE_NODE_ANY. */
int place_node_of_pid(pid_t pid);

#endif /* DMAD_PLACE_H */
