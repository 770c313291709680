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
 * place_least() - of the ONLINE devices in @devs[0..@n), other than @skip,
 * the one of least recent load (ties: fewer channels); only among those on
 * @node when any ONLINE device is on it, @skip included: so a channel
 * whose node has engines never goes off it, even when the only one there
 * is @skip (then NULL). A pure function of the devices it is given.
 */
struct device *place_least(struct device *const *devs, unsigned n, int node,
			   const struct device *skip);

/*
 * place_chan() - where a new client channel goes: place_pick(), else, with
 * --engines cpu, dmad's CPU engine (its worker copies), else NULL (the
 * library copies).
 */
struct device *place_chan(uint32_t caps, int node);

/*
 * place_node_of_pid() - the NUMA node @pid's copies are best served on:
 * that of the CPUs it is pinned to, else of its memory policy, else of
 * its cpuset's memory, else of the CPU it last ran on (place_node.h);
 * PLACE_NODE_ANY when none is known.
 */
int place_node_of_pid(pid_t pid);

#endif /* DMAD_PLACE_H */
