/* SPDX-License-Identifier: MIT */
/*
 * bench-stripe: one client's large copies on 1, 2 and 4 engines (issue #12).
 *
 * For each engine count N, a dmad of its own started with --engines N
 * (striping at its calibrated --stripe-min, or --stripe-min B), and one
 * more with --engines 4 --stripe-min 0 (striping off): one client on each,
 * one channel, copying each size back to back, --window copies in flight,
 * for --duration seconds; the cases take turns, --rounds times. The median
 * GB/s of each, and its ratio to N = 1 and to striping off, all from one
 * run. The copies of each measurement are compared byte for byte.
 *
 * On a machine whose engines are software threads (dma_skeleton) that
 * share a few CPUs, the engines compete for those CPUs and the ratios say
 * how much of a machine there was, not how well striping scales: read
 * them beside the CPU count printed first.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "dmaclient.h"

#define MAX_CASES 8
#define WAIT_MS	  30000

static const size_t sizes[] = {4u << 20, 64u << 20};

#define MAX_ROUNDS 15

/* One dmad of its own, a client and its channel. */
struct target {
	const char *engines;
	bool striped;
	struct daemon *d;
	struct dmac_client *c;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	double gbps[2][MAX_ROUNDS];
};

/*
 * Copies of @size, @window in flight, for @duration_ns and at least @window
 * of them; GB/s, or -errno.
 */
static double run_size(struct dmac_chan *ch, uint8_t *src, uint8_t *dst, size_t size,
		       unsigned window, uint64_t duration_ns)
{
	dmac_cookie_t *cookie = calloc(window, sizeof(*cookie));
	uint64_t t0, issued = 0, done = 0, end;
	int r = 0;

	if (!cookie)
		return -ENOMEM;
	memset(dst, 0, size * window);
	t0 = now_ns();
	end = t0 + duration_ns;
	while (r == 0 && (now_ns() < end || issued < window || done < issued)) {
		while (issued - done < window && (now_ns() < end || issued < window)) {
			unsigned i = (unsigned)(issued % window);

			cookie[i] = dmac_memcpy(ch, dst + i * size, src + i * size, size, 0);
			if (cookie[i] < 0) {
				r = cookie[i];
				break;
			}
			issued++;
		}
		dmac_issue_pending(ch);
		if (r == 0 && done < issued)
			r = dmac_wait(ch, cookie[done++ % window], WAIT_MS);
	}
	free(cookie);
	if (r < 0)
		return r;
	if (memcmp(dst, src, size * window)) {
		fprintf(stderr, "bench-stripe: wrong bytes in a %zu-byte copy\n", size);
		return -EILSEQ;
	}
	return (double)done * size / (double)(now_ns() - t0);
}

static int open_target(struct target *t, const char *dmad, const char *engines,
		       const char *stripe_min, unsigned window)
{
	char *args[] = {"--engines", (char *)engines, "--stripe-min", (char *)stripe_min, NULL};
	size_t span = sizes[1] * window;
	int r;

	*t = (struct target){.engines = engines, .striped = !stripe_min || strcmp(stripe_min, "0")};
	if (!stripe_min)
		args[2] = NULL;
	r = daemon_start(dmad, args, &t->d);
	if (r == 0)
		r = dmac_connect(daemon_socket(t->d), "bench-stripe", &t->c);
	if (r == 0) {
		t->src = dmac_region_alloc(t->c, span);
		t->dst = dmac_region_alloc(t->c, span);
		r = t->src && t->dst ? dmac_chan_get(t->c, DMAC_CAP_COPY, &t->ch) : -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < span; i++)
		t->src[i] = (uint8_t)(i * 131 + i / 4099);
	if (r < 0)
		fprintf(stderr, "bench-stripe: --engines %s: %s\n", engines, strerror(-r));
	return r;
}

static void close_target(struct target *t)
{
	dmac_chan_put(t->ch);
	dmac_disconnect(t->c);
	daemon_stop(t->d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bench-stripe [--dmad PATH] [--window N] [--duration SEC] [--rounds N]\n"
		   "                    [--stripe-min B]\n"
		   "One client's 4 MiB and 64 MiB copies through dmad with 1, 2 and 4 engines,\n"
		   "striped (at dmad's own --stripe-min, or B), and with 4 engines unstriped\n"
		   "(--stripe-min 0): GB/s and ratios.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dmad", required_argument, NULL, 'd'},
		{"window", required_argument, NULL, 'w'},
		{"duration", required_argument, NULL, 't'},
		{"rounds", required_argument, NULL, 'r'},
		{"stripe-min", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static const char *const engines[] = {"1", "2", "4", "4"};
	struct target t[MAX_CASES];
	const char *dmad = DMAD_PATH, *stripe_min = NULL;
	double duration = 1.0, med[MAX_CASES][2];
	unsigned window = 1, rounds = 3, n = 0;
	int o, r = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd') {
			dmad = optarg;
		} else if (o == 'w') {
			window = (unsigned)strtoul(optarg, NULL, 10);
		} else if (o == 't') {
			duration = strtod(optarg, NULL);
		} else if (o == 'r') {
			rounds = (unsigned)strtoul(optarg, NULL, 10);
		} else if (o == 's') {
			stripe_min = optarg;
		} else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (window < 1 || window > 8 || !(duration > 0) || rounds < 1 || rounds > MAX_ROUNDS) {
		usage(stderr);
		return 2;
	}
	printf("bench-stripe: %ld CPUs online, window %u, %u rounds of %.1f s per case, "
	       "--stripe-min %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), window, rounds, duration,
	       stripe_min ? stripe_min : "dmad's own");
	/* Every dmad first, then the cases in turn, round after round: a load
	 * that comes and goes hits them all alike. The last one unstriped. */
	for (; n < 4 && r == 0; n++)
		r = open_target(&t[n], dmad, engines[n], n == 3 ? "0" : stripe_min, window);
	for (unsigned k = 0; r == 0 && k < rounds; k++)
		for (unsigned i = 0; r == 0 && i < n; i++)
			for (unsigned s = 0; r == 0 && s < 2; s++) {
				/* A warm-up copy faults the destination in, off the clock. */
				double v =
					run_size(t[i].ch, t[i].src, t[i].dst, sizes[s], window, 0);

				if (v >= 0)
					v = run_size(t[i].ch, t[i].src, t[i].dst, sizes[s], window,
						     (uint64_t)(duration * 1e9));
				if (v < 0)
					r = (int)v;
				t[i].gbps[s][k] = v;
			}
	for (unsigned i = 0; i < n; i++)
		close_target(&t[i]);
	if (r < 0) {
		fprintf(stderr, "bench-stripe: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}

	printf("%-8s %-8s %12s %8s %8s %12s %8s %8s   (medians)\n", "engines", "stripes",
	       "4 MiB GB/s", "vs 1", "vs off", "64 MiB GB/s", "vs 1", "vs off");
	for (unsigned i = 0; i < n; i++)
		for (unsigned s = 0; s < 2; s++)
			med[i][s] = median(t[i].gbps[s], rounds);
	for (unsigned i = 0; i < n; i++) {
		printf("%-8s %-8s", t[i].engines, t[i].striped ? "on" : "off");
		for (unsigned s = 0; s < 2; s++)
			printf(" %12.2f %8.2f %8.2f", med[i][s], med[i][s] / med[0][s],
			       med[i][s] / med[n - 1][s]);
		printf("\n");
	}
	return 0;
}
