/* SPDX-License-Identifier: MIT */
/*
 * dmac-copy: copy verified data through dmad for a while.
 *
 * Fills a source region with a pattern, has the daemon's engines copy random
 * chunks into a destination region, checks every byte of every chunk, and
 * reports what it did. Prints the daemon's events (a channel moving to
 * another device, falling back to the CPU) as they arrive.
 *
 *   dmac-copy [--socket PATH] [--seconds N] [--max-size BYTES]
 *
 * Builds against the installed library alone:
 *   cc dmac-copy.c $(pkg-config --cflags --libs libdmaclient)
 */
#include <dmaclient.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REGION (16u << 20)
#define BATCH  32

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_event(const struct dmac_event *ev, void *arg)
{
	static const char *const what[] = {
		[DMAC_EVENT_CHAN_MOVED] = "channel moved",
		[DMAC_EVENT_CHAN_CPU] = "channel fell back to CPU",
		[DMAC_EVENT_DEVICE_ADDED] = "device added",
		[DMAC_EVENT_SHUTDOWN] = "daemon shutting down",
	};

	(void)arg;
	printf("dmac-copy: event: %s (%s -> %s, stall %llu us)\n",
	       ev->type <= DMAC_EVENT_SHUTDOWN ? what[ev->type] : "?", ev->from[0] ? ev->from : "-",
	       ev->to[0] ? ev->to : "-", (unsigned long long)ev->stall_us);
	fflush(stdout);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

int main(int argc, char **argv)
{
	const char *socket = NULL;
	double seconds = 3, t0, elapsed;
	size_t max_size = 1u << 20;
	unsigned long long bytes = 0, copies = 0;
	struct dmac_client *c;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	int ret;

	/* Events and results interleave with dmactl's output in the demo. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			socket = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--max-size") && i + 1 < argc)
			max_size = strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: dmac-copy [--socket PATH] [--seconds N] "
					"[--max-size BYTES]\n");
			return 2;
		}
	}
	if (max_size < 1 || max_size > REGION / BATCH)
		max_size = REGION / BATCH;

	ret = dmac_connect(socket, "dmac-copy", &c);
	if (ret < 0) {
		fprintf(stderr, "dmac-copy: cannot connect to dmad: %s\n", strerror(-ret));
		return 1;
	}
	dmac_set_event_cb(c, on_event, NULL);
	src = dmac_region_alloc(c, REGION);
	dst = dmac_region_alloc(c, REGION);
	if (!src || !dst) {
		fprintf(stderr, "dmac-copy: cannot allocate regions: %m\n");
		return 1;
	}
	ret = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (ret < 0) {
		fprintf(stderr, "dmac-copy: no channel: %s\n", strerror(-ret));
		return 1;
	}
	for (size_t i = 0; i < REGION; i++)
		src[i] = pattern(i);
	printf("dmac-copy: channel on %s, copybreak %zu bytes\n",
	       dmac_chan_device(ch)[0] ? dmac_chan_device(ch) : "cpu", dmac_chan_copybreak(ch));

	srand(1);
	t0 = now();
	while ((elapsed = now() - t0) < seconds) {
		size_t off[BATCH], len[BATCH];
		dmac_cookie_t last = 0;
		struct pollfd pfd = {.fd = dmac_fd(c), .events = POLLIN};

		memset(dst, 0, REGION);
		for (int i = 0; i < BATCH; i++) {
			len[i] = 1 + (size_t)rand() % max_size;
			off[i] = (size_t)i * (REGION / BATCH) +
				 (size_t)rand() % (REGION / BATCH - len[i] + 1);
			last = dmac_memcpy(ch, dst + off[i], src + off[i], len[i], 0);
			if (last < 0) {
				fprintf(stderr, "dmac-copy: submit failed: %s\n", strerror(-last));
				return 1;
			}
		}
		ret = dmac_wait(ch, last, 5000);
		if (ret < 0) {
			fprintf(stderr, "dmac-copy: wait failed: %s\n", strerror(-ret));
			return 1;
		}
		for (int i = 0; i < BATCH; i++) {
			for (size_t k = 0; k < len[i]; k++) {
				if (dst[off[i] + k] != pattern(off[i] + k)) {
					fprintf(stderr,
						"dmac-copy: byte %zu of copy %llu is wrong\n", k,
						copies + (unsigned long long)i);
					return 1;
				}
			}
			bytes += len[i];
		}
		copies += BATCH;
		if (poll(&pfd, 1, 0) > 0 && dmac_dispatch(c) < 0) {
			fprintf(stderr, "dmac-copy: daemon went away\n");
			return 1;
		}
	}
	printf("dmac-copy: %llu copies, %.1f MiB, every byte verified, %.2f GB/s incl. checking, "
	       "now on %s\n",
	       copies, (double)bytes / (1 << 20), (double)bytes / elapsed / 1e9,
	       dmac_chan_device(ch)[0] ? dmac_chan_device(ch) : "cpu");
	dmac_chan_put(ch);
	dmac_disconnect(c);
	return 0;
}
