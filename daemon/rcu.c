/* SPDX-License-Identifier: MIT */
/*
 * Grace periods for what workers read: the control thread publishes a new
 * array or table and must not free the old one while a worker may still
 * hold it. Workers report a quiescent state once per poll loop, and go
 * offline to sleep.
 *
 * The control thread does not wait for that where it need not: old
 * versions go on a defer queue (DPDK's rte_rcu_qsbr_dq) and are freed from
 * the tick once their grace period is over, and a caller that must know
 * when one is over takes a token and checks it later. Only a few rare paths
 * (a device's removal or arrival) still wait in rcu_synchronize().
 */
#include <stdlib.h>

#include <rte_rcu_qsbr.h>

#include "daemon.h"
#include "log.h"

#define DQ_SIZE 4096 /* frees pending at once; past it, enqueue reclaims first */

static struct rte_rcu_qsbr_dq *dq;

static void free_each(void *p, void *e, unsigned int n)
{
	(void)p;
	for (unsigned int i = 0; i < n; i++)
		free(((void **)e)[i]);
}

int rcu_init(void)
{
	struct rte_rcu_qsbr_dq_parameters params = {
		.name = "dmad",
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE, /* the control thread alone */
		.size = DQ_SIZE,
		.esize = sizeof(void *),
		.trigger_reclaim_limit = 64,
		.max_reclaim_size = 256,
		.free_fn = free_each,
		.v = dmad.qs,
	};

	dq = rte_rcu_qsbr_dq_create(&params);
	if (!dq)
		return log_error_errno(-ENOMEM, "cannot set up the RCU defer queue");
	return 0;
}

void rcu_synchronize(void)
{
	/* Waits at most one loop of each awake worker. */
	if (dmad.qs)
		rte_rcu_qsbr_synchronize(dmad.qs, RTE_QSBR_THRID_INVALID);
}

void rcu_defer_free(void *p)
{
	if (!p)
		return;
	/* Full even after reclaiming, or no queue (a failed start): wait instead. */
	if (!dq || rte_rcu_qsbr_dq_enqueue(dq, &p) != 0) {
		rcu_synchronize();
		free(p);
	}
}

void rcu_reclaim(void)
{
	if (dq)
		rte_rcu_qsbr_dq_reclaim(dq, DQ_SIZE, NULL, NULL, NULL);
}

uint64_t rcu_token(void)
{
	return dmad.qs ? rte_rcu_qsbr_start(dmad.qs) : 0;
}

bool rcu_passed(uint64_t token)
{
	return !dmad.qs || rte_rcu_qsbr_check(dmad.qs, token, false) == 1;
}

void rcu_fini(void)
{
	/* Workers have stopped: every grace period is over. */
	if (dq)
		rte_rcu_qsbr_dq_delete(dq);
	dq = NULL;
}
