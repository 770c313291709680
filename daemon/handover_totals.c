/* SPDX-License-Identifier: MIT */
/*
 * What clients and admins set (weights and rates, per client and per uid)
 * and what dmad counted (each client's totals, gone clients, released
 * devices, every engine's work) into the handover state and back, so that
 * a restart changes none of them: `dmactl status` totals never go down.
 */
#include <string.h>

#include "chan.h"
#include "device.h"
#include "handover_totals.h"
#include "log.h"
#include "retired.h"
#include "share.h"

void handover_totals_count(struct handover_ext_counts *n)
{
	const struct dmad_proto_released *rec;
	const struct dmad_proto_gone_client *gone;
	uint32_t uid, weight;
	uint64_t rate;

	n->nuids = 0;
	while (share_uid_get(n->nuids, &uid, &weight, &rate))
		n->nuids++;
	n->nreleased = retired_records(&rec);
	n->ngone = retired_clients(&gone);
}

static void add(struct handover_ext *e, const struct device *d)
{
	e->ops += __atomic_load_n(&d->ops, __ATOMIC_RELAXED);
	e->bytes += __atomic_load_n(&d->bytes, __ATOMIC_RELAXED);
	e->errors += __atomic_load_n(&d->errors, __ATOMIC_RELAXED);
}

void handover_totals_save(const struct handover_ext_view *x)
{
	struct handover_ext *e = (struct handover_ext *)x->e;
	const struct retired_sum *sum = retired_sum();
	const struct dmad_proto_released *rec;
	const struct dmad_proto_gone_client *gone;

	for (uint32_t i = 0; i < e->nuids; i++) {
		struct handover_uid *u = (struct handover_uid *)&x->uids[i];

		share_uid_get(i, &u->uid, &u->weight, &u->rate);
	}
	retired_records(&rec);
	memcpy((void *)x->released, rec, e->nreleased * sizeof(*rec));
	retired_clients(&gone);
	memcpy((void *)x->gone, gone, e->ngone * sizeof(*gone));
	/* As status.c sums them: every device, dmad's CPU engine, and the released. */
	for (unsigned i = 0; i < dmad.ndev; i++)
		add(e, dmad.devs[i]);
	if (dmad.cpu)
		add(e, dmad.cpu);
	e->ops += sum->ops;
	e->bytes += sum->bytes;
	e->errors += sum->errors;
	e->released_devices = sum->devices;
}

void handover_client_save(const struct client *c, struct handover_client_ext *hx)
{
	struct client_sum t = client_totals(c);

	/* The channel records carry the live channels' counters: the rest here. */
	for (const struct chan *ch = c->chans; ch; ch = ch->next) {
		t.ops -= ch->ops;
		t.bytes -= ch->bytes;
		t.errors -= ch->errors;
	}
	*hx = (struct handover_client_ext){
		.weight = c->weight,
		.flags = c->weight_own ? HANDOVER_CLIENT_WEIGHT_OWN : 0,
		.rate = c->rate.bps,
		.put_ops = t.ops,
		.put_bytes = t.bytes,
		.put_errors = t.errors,
	};
}

void handover_totals_restore(const struct handover_ext_view *x)
{
	const struct handover_ext *e = x->e;
	const struct retired_sum sum = {e->ops, e->bytes, e->errors, e->released_devices};

	for (uint32_t i = 0; i < e->nuids; i++)
		if (share_uid_carry(x->uids[i].uid, x->uids[i].weight, x->uids[i].rate) < 0)
			log_warning("uid %u: its share settings are not kept over the restart (too "
				    "many uids)",
				    x->uids[i].uid);
	retired_carry(&sum, x->released, e->nreleased, x->gone, e->ngone);
}

void handover_client_restore(struct client *c, const struct handover_client_ext *hx)
{
	if (hx->weight)
		c->weight = hx->weight;
	c->weight_own = hx->flags & HANDOVER_CLIENT_WEIGHT_OWN;
	rate_set(&c->rate, hx->rate);
	c->put_ops = hx->put_ops;
	c->put_bytes = hx->put_bytes;
	c->put_errors = hx->put_errors;
}
