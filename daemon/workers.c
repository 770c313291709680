/* SPDX-License-Identifier: MIT */
/* The worker lcores as a set: set up, launched, stopped. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "fair.h"
#include "log.h"
#include "worker.h"

/* Worker state and RCU, before devices are published to workers. */
int workers_init(void)
{
	unsigned lcore, i = 0;
	size_t sz = rte_rcu_qsbr_get_memsize(dmad.cfg.workers);

	dmad.qs = rte_zmalloc("dmad-rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!dmad.qs || rte_rcu_qsbr_init(dmad.qs, dmad.cfg.workers) < 0 || rcu_init() < 0)
		return log_error_errno(-ENOMEM, "cannot set up RCU");
	fair_init();

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct worker *w = &dmad.workers[i];
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};

		if (i == dmad.cfg.workers)
			break;
		w->idx = i;
		w->lcore = lcore;
		worker_idle_init(w);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		dmad.nworkers = ++i;
		if (w->epfd < 0 || w->wake_fd < 0 ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev) < 0)
			return log_error_errno(-errno, "cannot set up worker %u: %m", i);
	}
	if (!dmad.nworkers)
		return log_error_errno(-EINVAL, "no worker lcore: give EAL at least two lcores");
	return 0;
}

int workers_launch(void)
{
	for (unsigned i = 0; i < dmad.nworkers; i++)
		if (rte_eal_remote_launch(worker_main, &dmad.workers[i], dmad.workers[i].lcore) < 0)
			return log_error_errno(-EBUSY, "cannot launch worker %u", i);
	return 0;
}

void workers_stop(void)
{
	for (unsigned i = 0; i < dmad.nworkers; i++) {
		__atomic_store_n(&dmad.workers[i].stop, true, __ATOMIC_RELEASE);
		worker_kick(&dmad.workers[i]);
	}
	rte_eal_mp_wait_lcore();
	rcu_fini();
	for (unsigned i = 0; i < dmad.nworkers; i++) {
		close(dmad.workers[i].epfd);
		close(dmad.workers[i].wake_fd);
		free(dmad.workers[i].devs);
	}
}
