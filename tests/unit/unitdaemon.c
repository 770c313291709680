/* SPDX-License-Identifier: MIT */
/* In-process clients for unit tests (unitdaemon.h). */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "chan.h"
#include "client.h"
#include "daemon.h"
#include "device.h"
#include "eal.h"
#include "engine.h"
#include "hotplug.h"
#include "region.h"
#include "region_table.h"
#include "tap.h"
#include "unitdaemon.h"
#include "worker.h"

void unitd_start(const char *prog)
{
	config_defaults();
	dmad.cfg.engines = 0;
	if (eal_start(prog, dmad.cfg.workers, 0, NULL, NULL) < 0 || workers_init() < 0 ||
	    engine_cpu_create(&dmad.cpu) < 0)
		tap_bail("cannot start EAL and the worker");
}

void unitd_stop(struct client *cl)
{
	workers_stop();
	client_close(cl);
	client_reap(cl);
	client_free(cl);
	hotplug_shutdown();
	for (unsigned i = 0; i < dmad.ndev; i++)
		device_release(dmad.devs[i]);
	device_release(dmad.cpu);
	rte_free(dmad.qs);
	rte_eal_cleanup();
}

struct client *unitd_new(void)
{
	struct client *cl;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		tap_bail("socketpair");
	cl = client_new(sv[0]);
	if (!cl)
		tap_bail("client_new");
	cl->hello = true;
	return cl;
}

uint8_t *unitd_region(struct client *cl, size_t len, uint16_t *ret_id)
{
	int fd = memfd_create("unitd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct region *r;
	uint8_t *va;
	int id;

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
	    region_map(fd, len, cl->acct, &r) < 0)
		tap_bail("cannot map a region");
	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	id = region_table_add(cl, r);
	if (va == MAP_FAILED || id < 0)
		tap_bail("cannot register a region");
	cl->nregions++;
	*ret_id = (uint16_t)id;
	return va;
}

struct chan *unitd_chan(struct client *cl, struct device *d)
{
	struct chan *ch;

	if (chan_create(&(struct chan_owner){&cl->regions, cl->acct, cl->id}, DMAD_PROTO_CAP_COPY,
			&ch) < 0)
		tap_bail("chan_create");
	ch->id = ++cl->next_chan_id;
	if (chan_attach(ch, d) < 0)
		tap_bail("chan_attach");
	ch->next = cl->chans;
	cl->chans = ch;
	cl->nchans++;
	return ch;
}

void unitd_pattern(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 2654435761u) >> 24);
}

int64_t unitd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
