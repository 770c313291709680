/* SPDX-License-Identifier: MIT */
/*
 * sd_notify glue. The watchdog ping is earned, not sent on a timer: the
 * control thread sends WATCHDOG=1 only if every worker went round its loop
 * since the previous ping. A worker stuck inside a driver call (or a
 * control thread stuck anywhere) stops the pings, and with WatchdogSec= set
 * systemd kills and, with Restart=on-failure, restarts dmad. A healthy
 * worker loops at least every 100 ms even when idle: worker_sleep() waits
 * in epoll_wait() with that timeout.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "client.h"
#include "log.h"
#include "notify.h"

static struct {
	bool managed;	      /* $NOTIFY_SOCKET was set: someone listens */
	uint64_t watchdog_us; /* WatchdogSec=, 0 when not set */
	uint64_t last_ping_us;
	uint64_t loops[MAX_WORKERS]; /* each worker's loop count at the last ping */
	bool withheld;		     /* a ping is overdue: said so once in the log */
	char status[128];	     /* the STATUS= systemd has now */
} nt;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Counted as `dmactl status` counts them: clients that are not going away. */
static void status_line(char *buf, size_t size)
{
	unsigned online = 0, clients = 0, chans = 0;

	for (unsigned i = 0; i < dmad.ndev; i++)
		online += dmad.devs[i]->state == DMAD_PROTO_DEV_ONLINE;
	for (struct client *c = dmad.clients; c; c = c->next) {
		if (c->closing || c->refused)
			continue;
		clients++;
		chans += c->nchans;
	}
	snprintf(buf, size, "%u device(s) online, %u client(s), %u channel(s)", online, clients,
		 chans);
}

/* Sends @state with the current STATUS= line appended. */
static void send_with_status(const char *state)
{
	status_line(nt.status, sizeof(nt.status));
	sd_notifyf(0, "%sSTATUS=%s", state, nt.status);
}

/* The first index whose worker has not looped since the last ping, or -1. */
static int stuck_worker(void)
{
	for (unsigned i = 0; i < dmad.nworkers; i++)
		if (__atomic_load_n(&dmad.workers[i].loops, __ATOMIC_RELAXED) == nt.loops[i])
			return (int)i;
	return -1;
}

static void watchdog(void)
{
	uint64_t now = now_us();
	int stuck;

	/* Half the interval, as sd_watchdog_enabled(3) advises. */
	if (now - nt.last_ping_us < nt.watchdog_us / 2)
		return;
	stuck = stuck_worker();
	if (stuck >= 0) {
		const struct log_about about = {.event = "watchdog"};

		if (!nt.withheld)
			log_about_printf(LOG_WARNING, 0, &about,
					 "worker %d has not gone round its loop for %llu ms: "
					 "withholding the watchdog ping",
					 stuck, (unsigned long long)(now - nt.last_ping_us) / 1000);
		nt.withheld = true;
		return;
	}
	for (unsigned i = 0; i < dmad.nworkers; i++)
		nt.loops[i] = __atomic_load_n(&dmad.workers[i].loops, __ATOMIC_RELAXED);
	if (nt.withheld)
		log_notice("every worker is looping again: watchdog pings resume");
	nt.withheld = false;
	nt.last_ping_us = now;
	sd_notify(0, "WATCHDOG=1");
}

void notify_ready(void)
{
	nt.managed = getenv("NOTIFY_SOCKET") != NULL;
	if (sd_watchdog_enabled(0, &nt.watchdog_us) <= 0)
		nt.watchdog_us = 0;
	for (unsigned i = 0; i < dmad.nworkers; i++)
		nt.loops[i] = __atomic_load_n(&dmad.workers[i].loops, __ATOMIC_RELAXED);
	nt.last_ping_us = now_us();
	/* A ping with READY=1 restarts the interval from now, not from start-up. */
	send_with_status(nt.watchdog_us ? "READY=1\nWATCHDOG=1\n" : "READY=1\n");
}

void notify_tick(void)
{
	char line[sizeof(nt.status)];

	if (!nt.managed)
		return;
	status_line(line, sizeof(line));
	if (strcmp(line, nt.status)) {
		memcpy(nt.status, line, sizeof(line));
		sd_notifyf(0, "STATUS=%s", nt.status);
	}
	if (nt.watchdog_us)
		watchdog();
}

void notify_reloading(void)
{
	/* MONOTONIC_USEC= lets a Type=notify-reload manager (systemd 253+) match
	 * this RELOADING=1 to its own request; older ones ignore it. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
		   (unsigned long long)now_us());
}

void notify_reloaded(void)
{
	send_with_status("READY=1\n");
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing in-flight copies");
}
