/* SPDX-License-Identifier: MIT */
/*
 * bench-stripe: one client's large copies on 1, 2 and 4 engines (issue #12).
 *
 * For each engine count N, a dmad of its own started with --engines N
 * (striping at its calibrated --stripe-min), and the same once more with
 * --stripe-min 0 (striping off) on the largest N: one client on one
 * channel copies each size back to back, --window copies in flight, for
 * --duration seconds. GB/s, and the ratio to N = 1 and to striping off,
 * all from one run. The last copy of each case is compared byte for byte.
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

struct result {
	const char *engines;
	bool striped;
	double gbps[2];
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

static int stripe_case(const char *dmad, const char *engines, bool striped, unsigned window,
		       double duration_s, struct result *ret)
{
	char *args[] = {"--engines", (char *)engines, "--stripe-min", "0", NULL};
	size_t span = sizes[1] * window;
	struct dmac_client *c = NULL;
	struct dmac_chan *ch = NULL;
	struct daemon *d;
	uint8_t *src, *dst;
	int r;

	if (striped)
		args[2] = NULL;
	r = daemon_start(dmad, args, &d);
	if (r < 0)
		return r;
	r = dmac_connect(daemon_socket(d), "bench-stripe", &c);
	if (r == 0) {
		src = dmac_region_alloc(c, span);
		dst = dmac_region_alloc(c, span);
		r = src && dst ? dmac_chan_get(c, DMAC_CAP_COPY, &ch) : -ENOMEM;
	}
	*ret = (struct result){.engines = engines, .striped = striped};
	for (size_t i = 0; r == 0 && i < span; i++)
		src[i] = (uint8_t)(i * 131 + i / 4099);
	for (unsigned s = 0; r == 0 && s < 2; s++) {
		/* A warm-up copy faults the destination in, outside the clock. */
		double v = run_size(ch, src, dst, sizes[s], window, 0);

		v = v < 0 ? v : run_size(ch, src, dst, sizes[s], window, duration_s * 1e9);
		if (v < 0)
			r = (int)v;
		ret->gbps[s] = v;
	}
	if (r < 0)
		fprintf(stderr, "bench-stripe: --engines %s: %s\n", engines, strerror(-r));
	dmac_chan_put(ch);
	dmac_disconnect(c);
	daemon_stop(d);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bench-stripe [--dmad PATH] [--window N] [--duration SEC]\n"
		   "One client's 4 MiB and 64 MiB copies through dmad with 1, 2 and 4 engines,\n"
		   "striped, and with 4 engines unstriped (--stripe-min 0): GB/s and ratios.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dmad", required_argument, NULL, 'd'},
		{"window", required_argument, NULL, 'w'},
		{"duration", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static const char *const engines[] = {"1", "2", "4"};
	struct result res[MAX_CASES];
	const char *dmad = DMAD_PATH;
	double duration = 2.0;
	unsigned window = 1, n = 0;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd') {
			dmad = optarg;
		} else if (o == 'w') {
			window = (unsigned)strtoul(optarg, NULL, 10);
		} else if (o == 't') {
			duration = strtod(optarg, NULL);
		} else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (window < 1 || window > 8 || !(duration > 0)) {
		usage(stderr);
		return 2;
	}
	printf("bench-stripe: %ld CPUs online, window %u, %.1f s per case\n",
	       sysconf(_SC_NPROCESSORS_ONLN), window, duration);
	for (unsigned e = 0; e < 3; e++)
		if (stripe_case(dmad, engines[e], true, window, duration, &res[n++]) < 0)
			return EXIT_FAILURE;
	if (stripe_case(dmad, "4", false, window, duration, &res[n++]) < 0)
		return EXIT_FAILURE;

	printf("%-8s %-8s %12s %8s %8s %12s %8s %8s\n", "engines", "stripes", "4 MiB GB/s", "vs 1",
	       "vs off", "64 MiB GB/s", "vs 1", "vs off");
	for (unsigned i = 0; i < n; i++) {
		printf("%-8s %-8s", res[i].engines, res[i].striped ? "on" : "off");
		for (unsigned s = 0; s < 2; s++)
			printf(" %12.2f %8.2f %8.2f", res[i].gbps[s],
			       res[i].gbps[s] / res[0].gbps[s],
			       res[i].gbps[s] / res[n - 1].gbps[s]);
		printf("\n");
	}
	return 0;
}
