/* SPDX-License-Identifier: MIT */
/*
 * bench-fair: how dmad shares one engine between clients (issue #12).
 *
 *   light alone      one client at depth 1, 4 KiB copies: latency p50/p99
 *   light + greedy   the same beside a greedy client (1024 x 64 KiB in flight)
 *   equal            two greedy clients of equal weight: each one's bytes
 *   1:3              the same, weights 100 and 300 (dmactl set)
 *
 * Each client is a connection and a thread of this process, on a dmad of
 * its own started with --engines 1 (or --engines cpu: the CPU engine).
 * Figures, not pass or fail: the targets are printed beside them.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "dmaclient.h"

#define GREEDY_WINDOW 1024
#define GREEDY_SIZE   (64u << 10)
#define LIGHT_SIZE    (4u << 10)
#define LAT_MAX	      200000
#define WAIT_MS	      10000

struct client {
	const char *name;
	struct dmac_client *c;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	unsigned window;
	size_t size;
	uint64_t bytes; /* done; read by the main thread while it runs */
	bool stop;
	int err;
	uint64_t *lat; /* light: depth-1 latencies, ns */
	size_t nlat;
	pthread_t t;
};

static const char *socket_path;

static int client_open(struct client *k, const char *name, unsigned window, size_t size)
{
	size_t span = (size_t)window * size;
	int r;

	*k = (struct client){.name = name, .window = window, .size = size};
	r = dmac_connect(socket_path, name, &k->c);
	if (r < 0)
		return r;
	k->src = dmac_region_alloc(k->c, span);
	k->dst = dmac_region_alloc(k->c, span);
	if (!k->src || !k->dst)
		return -ENOMEM;
	r = dmac_chan_get(k->c, DMAC_CAP_COPY, &k->ch);
	if (r < 0)
		return r;
	/* Every copy through dmad. */
	dmac_chan_set_copybreak(k->ch, 0);
	memset(k->src, 0x5a, span);
	memset(k->dst, 0, span);
	return 0;
}

static void client_close(struct client *k)
{
	if (k->ch)
		dmac_chan_put(k->ch);
	if (k->c)
		dmac_disconnect(k->c);
	free(k->lat);
}

/* Keep the window full; wait for the oldest when it is. */
static void *greedy(void *arg)
{
	struct client *k = arg;
	dmac_cookie_t *ck = calloc(k->window, sizeof(*ck));
	uint64_t issued = 0, done = 0;

	while (ck && !__atomic_load_n(&k->stop, __ATOMIC_RELAXED)) {
		while (issued - done < k->window) {
			size_t off = (issued % k->window) * k->size;
			dmac_cookie_t c =
				dmac_memcpy(k->ch, k->dst + off, k->src + off, k->size, 0);

			if (c == -EAGAIN)
				break;
			if (c < 0) {
				k->err = c;
				goto out;
			}
			ck[issued++ % k->window] = c;
		}
		dmac_issue_pending(k->ch);
		k->err = dmac_wait(k->ch, ck[done % k->window], WAIT_MS);
		if (k->err)
			break;
		done++;
		__atomic_store_n(&k->bytes, k->bytes + k->size, __ATOMIC_RELAXED);
	}
out:
	/* Let what is in flight finish before the channel is put. */
	if (ck && issued > done)
		dmac_wait(k->ch, ck[(issued - 1) % k->window], WAIT_MS);
	free(ck);
	return NULL;
}

/* Depth 1: one copy, wait for it, again. */
static void *light(void *arg)
{
	struct client *k = arg;

	k->lat = malloc(LAT_MAX * sizeof(*k->lat));
	while (k->lat && k->nlat < LAT_MAX && !__atomic_load_n(&k->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = now_ns();
		dmac_cookie_t c = dmac_memcpy(k->ch, k->dst, k->src, k->size, 0);

		if (c < 0) {
			k->err = c;
			break;
		}
		dmac_issue_pending(k->ch);
		k->err = dmac_wait(k->ch, c, WAIT_MS);
		if (k->err)
			break;
		k->lat[k->nlat++] = now_ns() - t0;
		__atomic_store_n(&k->bytes, k->bytes + k->size, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void sleep_s(double s)
{
	usleep((useconds_t)(s * 1e6));
}

static void stop(struct client *k)
{
	__atomic_store_n(&k->stop, true, __ATOMIC_RELAXED);
	pthread_join(k->t, NULL);
	if (k->err)
		fprintf(stderr, "bench-fair: %s: %s\n", k->name, strerror(-k->err));
}

/* `dmactl set ID weight W` for the client named @name. */
static int set_weight(const char *dmactl, const char *name, unsigned w)
{
	char cmd[512], line[256];
	unsigned id = 0, cid;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s --socket %s --no-legend clients", dmactl, socket_path);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char n[64];
		int pid;
		unsigned uid;

		if (sscanf(line, "%u %d %u %63s", &cid, &pid, &uid, n) == 4 && !strcmp(n, name))
			id = cid;
	}
	if (f)
		pclose(f);
	if (!id)
		return -ESRCH;
	snprintf(cmd, sizeof(cmd), "%s --socket %s set %u weight %u >/dev/null", dmactl,
		 socket_path, id, w);
	return system(cmd) == 0 ? 0 : -EIO;
}

static void latency(struct client *k, double *p50, double *p99)
{
	*p50 = percentile_ns(k->lat, k->nlat, 50) / 1e3;
	*p99 = percentile_ns(k->lat, k->nlat, 99) / 1e3;
}

/* Light client for @secs, beside a greedy one when @with_greedy. */
static int light_phase(bool with_greedy, double secs, double *p50, double *p99, size_t *n)
{
	struct client g = {0}, l = {0};
	int r = 0;

	if (with_greedy) {
		r = client_open(&g, "greedy", GREEDY_WINDOW, GREEDY_SIZE);
		if (r < 0)
			goto out;
		pthread_create(&g.t, NULL, greedy, &g);
		sleep_s(0.3);
	}
	r = client_open(&l, "light", 1, LIGHT_SIZE);
	if (r < 0)
		goto out;
	pthread_create(&l.t, NULL, light, &l);
	sleep_s(secs);
	stop(&l);
	latency(&l, p50, p99);
	*n = l.nlat;
	if (with_greedy)
		stop(&g);
out:
	client_close(&l);
	client_close(&g);
	return r;
}

/* Two greedy clients weighted @w0:@w1 for @secs: each one's share of the bytes. */
static int greedy_phase(const char *dmactl, unsigned w0, unsigned w1, double secs, double share[2],
			double *gbps)
{
	struct client g[2] = {0};
	uint64_t b0[2], b1[2];
	int r;

	if ((r = client_open(&g[0], "greedy-a", GREEDY_WINDOW, GREEDY_SIZE)) < 0 ||
	    (r = client_open(&g[1], "greedy-b", GREEDY_WINDOW, GREEDY_SIZE)) < 0)
		goto out;
	/* A dmad without weights (before protocol 1.3) still shows how it shares. */
	if (set_weight(dmactl, "greedy-a", w0) < 0 || set_weight(dmactl, "greedy-b", w1) < 0)
		fprintf(stderr, "bench-fair: weights %u:%u not set: dmad takes none?\n", w0, w1);
	for (int i = 0; i < 2; i++)
		pthread_create(&g[i].t, NULL, greedy, &g[i]);
	/* Measure after both have filled their windows. */
	sleep_s(0.5);
	for (int i = 0; i < 2; i++)
		b0[i] = __atomic_load_n(&g[i].bytes, __ATOMIC_RELAXED);
	sleep_s(secs);
	for (int i = 0; i < 2; i++)
		b1[i] = __atomic_load_n(&g[i].bytes, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		stop(&g[i]);
	for (int i = 0; i < 2; i++)
		share[i] = (double)(b1[i] - b0[i]) / (double)(b1[0] - b0[0] + b1[1] - b0[1]);
	*gbps = (double)(b1[0] - b0[0] + b1[1] - b0[1]) / secs / 1e9;
out:
	client_close(&g[0]);
	client_close(&g[1]);
	return r;
}

int main(int argc, char **argv)
{
	const char *dmad = DMAD_PATH, *dmactl = DMACTL_PATH, *engines = "1";
	static const struct option opts[] = {
		{"dmad", required_argument, NULL, 'd'},
		{"dmactl", required_argument, NULL, 'c'},
		{"engines", required_argument, NULL, 'e'},
		{"seconds", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	double secs = 3, a50, a99, n50, n99, eq[2], wt[2], eq_gbps, wt_gbps;
	size_t an, nn;
	struct daemon *d;
	int o, r;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			dmad = optarg;
			break;
		case 'c':
			dmactl = optarg;
			break;
		case 'e':
			engines = optarg;
			break;
		case 's':
			secs = atof(optarg);
			break;
		default:
			printf("usage: bench-fair [--dmad PATH] [--dmactl PATH] [--engines N|cpu] "
			       "[--seconds S]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	{
		char *extra[] = {(char *)"--engines", (char *)engines, NULL};

		r = daemon_start(dmad, extra, &d);
	}
	if (r < 0) {
		fprintf(stderr, "bench-fair: cannot start %s: %s\n", dmad, strerror(-r));
		return 1;
	}
	socket_path = daemon_socket(d);

	r = light_phase(false, secs, &a50, &a99, &an);
	if (!r)
		r = light_phase(true, secs, &n50, &n99, &nn);
	if (!r)
		r = greedy_phase(dmactl, 100, 100, secs, eq, &eq_gbps);
	if (!r)
		r = greedy_phase(dmactl, 100, 300, secs, wt, &wt_gbps);
	daemon_stop(d);
	if (r < 0) {
		fprintf(stderr, "bench-fair: %s\n", strerror(-r));
		return 1;
	}

	printf("engine: --engines %s, %.1f s per case\n", engines, secs);
	printf("light client (depth 1, %u B)    p50 us   p99 us  samples\n", LIGHT_SIZE);
	printf("  alone                        %7.1f  %7.1f  %7zu\n", a50, a99, an);
	printf("  beside a greedy client       %7.1f  %7.1f  %7zu\n", n50, n99, nn);
	printf("  ratio (target p99 <= 2x)     %7.2f  %7.2f\n", n50 / a50, n99 / a99);
	printf("two greedy clients (%u x %u KiB)  share A  share B   GB/s\n", GREEDY_WINDOW,
	       GREEDY_SIZE >> 10);
	printf("  weights 1:1 (target 50/50)   %6.1f%%  %6.1f%%  %5.2f\n", 100 * eq[0], 100 * eq[1],
	       eq_gbps);
	printf("  weights 1:3 (target 25/75)   %6.1f%%  %6.1f%%  %5.2f\n", 100 * wt[0], 100 * wt[1],
	       wt_gbps);
	return 0;
}
