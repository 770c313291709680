/* SPDX-License-Identifier: MIT */
/*
 * Serving the rings a restart handed over while the new dmad's EAL and
 * engines come up: a thread of its own that takes each channel's
 * descriptors, checks them against the client's regions as a worker does
 * and copies with the CPU, in ring order, from the position in the state.
 * It uses nothing of DPDK, so it starts before rte_eal_init() and the
 * stall a restart costs is the old dmad's drain and the exec, not EAL's
 * start. handover_bridge_stop() ends it before any worker sees the
 * channels and writes where it left each ring back into the state's
 * records: the workers resume there, as if the old dmad had stopped
 * there. Never two consumers of a ring at once: the thread has exited
 * before handover_restore() attaches a channel.
 */
#ifndef DMAD_HANDOVER_BRIDGE_H
#define DMAD_HANDOVER_BRIDGE_H

#include <stdbool.h>

#include "handover_state.h"

struct handover_bridge;

/*
 * handover_bridge_start() - map the regions and rings of @v (checked by
 * handover_state_check_fds()) and serve every channel that was on an
 * engine, of each client record i with @serve[i]. It meters nothing and
 * knows no weights: the caller leaves out the clients with a byte rate. A
 * client whose regions cannot all be mapped is left for handover_restore()
 * alone. The first pass over the rings is made here, on the calling thread;
 * the bridge's thread makes the rest. Control thread, before EAL starts.
 * Returns the bridge (to be stopped, even if its thread could not start:
 * the first pass moved the rings), or NULL (logged) when it could not
 * start, or had no ring to serve: the restart then stalls until the
 * workers run, as without it.
 */
struct handover_bridge *handover_bridge_start(const struct handover_view *v, const bool *serve);

/*
 * handover_bridge_stop() - stop serving, wait for the thread, and write
 * each served channel's consumer index, error count and counters into
 * @chans (the state's @nchans records the bridge was started with);
 * unmap and free everything. Returns when the rings were first served
 * again (CLOCK_MONOTONIC ns; 0: never), and in *@ret_descs how many
 * descriptors the bridge took. Accepts NULL (returns 0, no descriptors).
 */
uint64_t handover_bridge_stop(struct handover_bridge *b, struct handover_chan *chans,
			      uint32_t nchans, uint64_t *ret_descs);

#endif /* DMAD_HANDOVER_BRIDGE_H */
