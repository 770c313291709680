/* SPDX-License-Identifier: MIT */
/*
 * What released devices leave behind: a record each, which the operator
 * reads in the status until it is cleared (as systemctl --failed lists
 * failed units), and their counters, folded into totals that never
 * decrease however many devices come and go; and a record of each client
 * that disconnected, with its totals. Control thread.
 */
#ifndef DMAD_RETIRED_H
#define DMAD_RETIRED_H

#include <stdint.h>

#include "daemon.h"

/* Counters of every device released since start. */
struct retired_sum {
	uint64_t ops, bytes, errors;
	uint32_t devices;
};

/*
 * retired_device() - @d is being released: fold its counters into the sum
 * and keep a record of it, as d->end_state and d->reason say (REMOVED when
 * unset). The oldest record goes when DMAD_PROTO_RELEASED_MAX are kept.
 */
void retired_device(const struct device *d);

/* retired_forget() - a device named @name is back: its record goes. */
void retired_forget(const char *name);

/*
 * retired_reset() - forget the record of @name, or every record (NULL).
 * Returns how many went, or -ENOENT when @name has none.
 */
int retired_reset(const char *name);

/* The records, oldest first; returns how many. */
unsigned retired_records(const struct dmad_proto_released **ret_records);

const struct retired_sum *retired_sum(void);

/*
 * retired_client() - a client is being freed: keep @rec, its record with
 * its final totals (when_us 0: now). The oldest goes when
 * DMAD_PROTO_GONE_MAX are kept.
 */
void retired_client(const struct dmad_proto_gone_client *rec);

/* retired_clients_reset() - forget every gone client; returns how many went. */
int retired_clients_reset(void);

/* The gone clients' records, oldest first; returns how many. */
unsigned retired_clients(const struct dmad_proto_gone_client **ret_records);

/*
 * retired_carry() - at a restart's takeover: the dmad before it had counted
 * @sum (every engine's counters, released devices included) and kept these
 * records; the totals go on from there. Added to what this dmad counted
 * already; its own records come after the carried ones (the oldest go
 * when they do not all fit).
 */
void retired_carry(const struct retired_sum *sum, const struct dmad_proto_released *records,
		   unsigned nrecords, const struct dmad_proto_gone_client *gone, unsigned ngone);

#endif /* DMAD_RETIRED_H */
