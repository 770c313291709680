/* SPDX-License-Identifier: MIT */
/*
 * Devices arriving: `dmactl add DEVARGS`, and DPDK's device event monitor
 * for PCI devices that leave without asking (routed to the removal path).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>

#include "chan.h"
#include "device.h"
#include "engine.h"
#include "events.h"
#include "handover_live.h"
#include "hotplug.h"
#include "log.h"
#include "log_dpdk.h"

/* Is @ch copying with a CPU (the library's or dmad's) and free to move? */
static bool on_cpu(const struct chan *ch)
{
	return !ch->dead && !ch->moving && !ch->rebalancing && (!ch->dev || ch->dev == dmad.cpu);
}

/* Returns whether @ch moved: it must have nothing in flight where it was. */
static bool move_to(struct chan *ch, struct device *d)
{
	struct device *from = ch->dev;

	/* Waits for a grace period: the old worker lets go of the channel
	 * before the new device's may take it, so it is never on two at once. */
	chan_detach(ch);
	/* The CPU engine retires what it takes in the loop that takes it, so
	 * this holds; were it not to, moving now could reorder completions. */
	if (!chan_drained(ch)) {
		log_error("channel %u of client %u still has copies in flight; it stays", ch->id,
			  ch->owner_id);
		d = from;
	}
	if (chan_attach(ch, d) < 0 && chan_attach(ch, dmad.cpu) < 0)
		log_error("cannot reattach channel %u of client %u", ch->id, ch->owner_id);
	return d != from;
}

/* Channels on CPU fallback (clients' and receive flows') come back to an engine first. */
static uint32_t bring_back(struct device *d)
{
	struct event ev = {.type = EVENT_CHAN_MOVED, .to = d->name};
	uint32_t moved = 0;

	for (struct chan *ch = chan_next(NULL); ch; ch = chan_next(ch)) {
		if (!on_cpu(ch))
			continue;
		ev.ch = ch;
		ev.from = ch->dev ? ch->dev->name : "";
		if (!move_to(ch, d))
			continue;
		events_emit(&ev);
		moved++;
	}
	/* A channel the library copied for now has an engine: the crash
	 * journal must say so before a crash could make the next dmad leave
	 * what its ring holds to no one. */
	if (moved)
		handover_live_dirty();
	return moved;
}

int hotplug_add(const char *devargs, char *ret_name, uint32_t *ret_moved, char *ret_why,
		size_t why_size)
{
	struct device *d = NULL;
	int ret;

	/* DPDK says why a probe failed only in its log: keep its first error. */
	log_dpdk_capture(ret_why, why_size);
	ret = engine_dmadev_add(devargs, &d);
	log_dpdk_capture(NULL, 0);
	if (ret == -EEXIST)
		return log_error_errno(ret, "cannot add %s: it is already there", devargs);
	if (ret < 0)
		return log_error_errno(ret, "%s gave no usable DMA device: %m", devargs);
	hotplug_adopt(d, ret_moved);
	snprintf(ret_name, DMAD_PROTO_NAME_MAX, "%s", d->name);
	return 0;
}

void hotplug_adopt(struct device *d, uint32_t *ret_moved)
{
	struct event ev = {.type = EVENT_DEVICE_ADDED, .device = d, .to = d->name};

	if (device_any_needs_dma_map())
		log_warning("%s needs IOMMU mappings: regions registered before it are mapped "
			    "only for the devices present then",
			    d->name);
	*ret_moved = bring_back(d);
	events_emit(&ev);
	log_about_printf(
		LOG_INFO, 0, &(struct log_about){.device = d->name, .event = "device-added"},
		"device %s added; %u channel(s) back from CPU fallback", d->name, *ret_moved);
}

/* DPDK calls this on its interrupt thread: hand the name to the control loop. */
static int monitor_pipe[2] = {-1, -1};
static unsigned monitor_dropped;

static void on_dev_event(const char *name, enum rte_dev_event_type type, void *arg)
{
	char buf[DMAD_PROTO_NAME_MAX] = {0};
	ssize_t r;

	(void)arg;
	if (type != RTE_DEV_EVENT_REMOVE)
		return;
	snprintf(buf, sizeof(buf), "%s", name);
	/* One write under PIPE_BUF is atomic. A full pipe drops the event: counted
	 * here, logged by the control loop; the device's watchdog still fails it. */
	r = write(monitor_pipe[1], buf, sizeof(buf));
	if (r != (ssize_t)sizeof(buf))
		__atomic_fetch_add(&monitor_dropped, 1, __ATOMIC_RELAXED);
}

int hotplug_monitor_start(int *ret_fd)
{
	int ret;

	if (pipe2(monitor_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	ret = rte_dev_event_callback_register(NULL, on_dev_event, NULL);
	if (ret < 0)
		return ret;
	/* Needs the kernel's uevent netlink socket; as non-root it may not open. */
	ret = rte_dev_event_monitor_start();
	if (ret < 0)
		return ret;
	/* DPDK's SIGBUS handler for a removed PCI device's registers: without
	 * PCI it claims no fault, and for any other it calls rte_exit(), which
	 * waits for the faulting thread itself: dmad hung rather than died
	 * (and was restarted). Only where there is PCI to handle. */
	if (rte_eal_has_pci()) {
		ret = rte_dev_hotplug_handle_enable();
		if (ret < 0)
			return ret;
	}
	*ret_fd = monitor_pipe[0];
	return 0;
}

void hotplug_monitor_read(int fd)
{
	char buf[DMAD_PROTO_NAME_MAX];

	unsigned dropped = __atomic_exchange_n(&monitor_dropped, 0, __ATOMIC_RELAXED);

	if (dropped)
		log_error("%u device removal event(s) lost (event pipe full); the watchdog "
			  "fails such devices",
			  dropped);
	while (read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf)) {
		buf[sizeof(buf) - 1] = '\0';
		log_about_printf(LOG_ERR, 0,
				 &(struct log_about){.device = buf, .event = "device-unplugged"},
				 "device %s was removed from the bus", buf);
		/* Its engine is gone: redo in-flight work by CPU, move its channels. */
		hotplug_surprise(buf);
	}
}
