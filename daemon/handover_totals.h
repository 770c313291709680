/* SPDX-License-Identifier: MIT */
/*
 * Settings and totals across a restart (handover_totals.c): the
 * handover_ext.h part's records other than the flows'. Control thread.
 */
#ifndef DMAD_HANDOVER_TOTALS_H
#define DMAD_HANDOVER_TOTALS_H

#include "client.h"
#include "handover_ext.h"

/* handover_totals_count() - the uid, released-device and gone-client counts into @n. */
void handover_totals_count(struct handover_ext_counts *n);

/* handover_totals_save() - those records and the daemon-wide totals into
 * @x (laid out with handover_totals_count()'s counts). Workers stopped. */
void handover_totals_save(const struct handover_ext_view *x);

/* handover_client_save() - @c's settings and the totals its channel records lack. */
void handover_client_save(const struct client *c, struct handover_client_ext *hx);

/* handover_totals_restore() - uid settings, records and totals of @x (checked).
 * Before any client is restored. */
void handover_totals_restore(const struct handover_ext_view *x);

/* handover_client_restore() - @c's settings and totals: before its channels. */
void handover_client_restore(struct client *c, const struct handover_client_ext *hx);

#endif /* DMAD_HANDOVER_TOTALS_H */
