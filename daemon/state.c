/* SPDX-License-Identifier: MIT */
/* The daemon's one global state, and the RCU grace period its readers honour. */
#include "daemon.h"

struct dmad dmad;

void rcu_synchronize(void)
{
	/* Workers report a quiescent state once per poll loop, and go offline
	 * to sleep: this waits at most one loop of each awake worker. */
	if (dmad.qs)
		rte_rcu_qsbr_synchronize(dmad.qs, RTE_QSBR_THRID_INVALID);
}
