/* SPDX-License-Identifier: MIT */
/*
 * dmad-bench: for each size, the in-process baseline, CPU memcpy, dmad on
 * one channel and dmad on several, back to back in one run so that their
 * ratios mean something on a noisy machine.
 */
#include <errno.h>
#include <sched.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmaclient.h"

#include "bench.h"

#ifndef DMAD_PATH
#define DMAD_PATH "dmad"
#endif

#define MAX_SIZES      16
#define INFLIGHT_MAX   (4u << 20) /* bytes in flight per channel, at most */
#define INPROC_NB_DESC 1024u

enum {
	MODE_INPROC = 1u << 0,
	MODE_CPU = 1u << 1,
	MODE_DMAD = 1u << 2,
};

struct options {
	const char *socket;
	const char *dmad;
	const char *engines;
	const char *json;
	size_t sizes[MAX_SIZES];
	unsigned n_sizes;
	unsigned modes;
	unsigned channels;
	unsigned window;
	uint64_t max_ops;
	double duration_s;
	unsigned lat_samples;
	bool poll;
	uint64_t hotpath_ops;
	unsigned hotpath_batch;
	char **dmad_args; /* after "--", NULL-terminated */
	bool shared_cpus; /* no engine CPU split for the dmad started here */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dmad-bench [options] [-- dmad options]\n"
		"  --sizes LIST        copy sizes, K/M suffixes (64,4K,64K,1M)\n"
		"  --modes LIST        inproc,cpu,dmad (all)\n"
		"  --channels N        dmad channels, one thread each, for the second dmad case (4;\n"
		"                      1 runs only the single-channel case)\n"
		"  --window N          copies in flight per channel (64; at most %u MiB)\n"
		"  --duration SEC      per case, the throughput pass (0.5)\n"
		"  --ops N             per case, at most this many copies (2000000)\n"
		"  --lat-samples N     depth-1 latency samples per channel (2000)\n"
		"  --poll              dmad: poll dmac_is_complete() instead of dmac_wait()\n"
		"  --socket PATH       use the dmad listening there instead of starting one\n"
		"  --dmad PATH         dmad to start (%s)\n"
		"  --engines N         --engines for the dmad started here (1)\n"
		"  --shared-cpus       let dmad's engine thread share CPUs with its worker and\n"
		"                      the client (default: the engine gets a CPU of its own,\n"
		"                      as in the in-process case)\n"
		"  --json FILE         also write JSON there; '-' for stdout (table to stderr)\n"
		"  --hotpath OPS       only run the submit loop hotpath-counts.sh measures\n"
		"  --hotpath-batch N   copies per dmac_issue_pending() in --hotpath (1)\n",
		INFLIGHT_MAX >> 20, DMAD_PATH);
}

static int parse_size(const char *s, size_t *ret_size)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	/* 8 bytes hold the latency tag; the ring's length field is 32 bits. */
	if (*end || v < 8 || v > UINT32_MAX)
		return -EINVAL;
	*ret_size = (size_t)v;
	return 0;
}

static int parse_sizes(char *list, struct options *o)
{
	o->n_sizes = 0;
	for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
		if (o->n_sizes == MAX_SIZES || parse_size(s, &o->sizes[o->n_sizes]) < 0)
			return -EINVAL;
		o->n_sizes++;
	}
	return o->n_sizes ? 0 : -EINVAL;
}

static int parse_modes(char *list, unsigned *ret_modes)
{
	unsigned m = 0;

	for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
		if (!strcmp(s, "inproc"))
			m |= MODE_INPROC;
		else if (!strcmp(s, "cpu"))
			m |= MODE_CPU;
		else if (!strcmp(s, "dmad"))
			m |= MODE_DMAD;
		else
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*ret_modes = m;
	return 0;
}

static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"sizes", required_argument, NULL, 's'},
		{"modes", required_argument, NULL, 'm'},
		{"channels", required_argument, NULL, 'c'},
		{"window", required_argument, NULL, 'w'},
		{"duration", required_argument, NULL, 'd'},
		{"ops", required_argument, NULL, 'n'},
		{"lat-samples", required_argument, NULL, 'l'},
		{"poll", no_argument, NULL, 'p'},
		{"socket", required_argument, NULL, 'S'},
		{"dmad", required_argument, NULL, 'D'},
		{"engines", required_argument, NULL, 'e'},
		{"json", required_argument, NULL, 'j'},
		{"hotpath", required_argument, NULL, 'H'},
		{"hotpath-batch", required_argument, NULL, 'B'},
		{"shared-cpus", no_argument, NULL, 'X'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t v;
	char *end;
	int opt, idx = 0, r = 0;

	while ((opt = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		switch (opt) {
		case 's':
			r = parse_sizes(optarg, o);
			break;
		case 'm':
			r = parse_modes(optarg, &o->modes);
			break;
		case 'c':
			r = parse_uint(optarg, 1, 256, &v);
			o->channels = (unsigned)v;
			break;
		case 'w':
			r = parse_uint(optarg, 1, 1024, &v);
			o->window = (unsigned)v;
			break;
		case 'd':
			o->duration_s = strtod(optarg, &end);
			r = *end || o->duration_s <= 0 ? -EINVAL : 0;
			break;
		case 'n':
			r = parse_uint(optarg, 1, UINT64_MAX, &o->max_ops);
			break;
		case 'l':
			r = parse_uint(optarg, 1, 10000000, &v);
			o->lat_samples = (unsigned)v;
			break;
		case 'X':
			o->shared_cpus = true;
			break;
		case 'p':
			o->poll = true;
			break;
		case 'S':
			o->socket = optarg;
			break;
		case 'D':
			o->dmad = optarg;
			break;
		case 'e':
			r = parse_uint(optarg, 1, 64, &v);
			o->engines = optarg;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'H':
			r = parse_uint(optarg, 1, UINT64_MAX / 2, &o->hotpath_ops);
			break;
		case 'B':
			r = parse_uint(optarg, 1, 1024, &v);
			o->hotpath_batch = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			return -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "dmad-bench: bad value for --%s: %s\n", longopts[idx].name,
				optarg);
			return r;
		}
	}
	o->dmad_args = argv + optind;
	return 0;
}

static const char *mode_name(unsigned mode)
{
	return mode == MODE_INPROC ? "inproc" : mode == MODE_CPU ? "cpu" : "dmad";
}

static unsigned window_for(const struct options *o, size_t size)
{
	size_t w = INFLIGHT_MAX / size;

	if (w < 1)
		w = 1;
	return w < o->window ? (unsigned)w : o->window;
}

static size_t stride_for(size_t size)
{
	return (size + 63) & ~(size_t)63;
}

/* Open @n channels of one way, run the case, close them. */
static int run_mode(unsigned mode, unsigned n, struct dmac_client *client, const struct options *o,
		    size_t size, struct bench_result *ret)
{
	struct bench_chan *chans[256] = {0};
	struct run_params p = {
		.size = size,
		.window = window_for(o, size),
		.max_ops = o->max_ops,
		.duration_s = o->duration_s,
		.lat_samples = o->lat_samples,
		.lat_duration_s = o->duration_s / 2,
	};
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		if (mode == MODE_INPROC)
			r = inproc_chan_open(stride_for(size), p.window, &chans[i]);
		else if (mode == MODE_CPU)
			r = cpu_chan_open(stride_for(size), p.window, &chans[i]);
		else
			r = dmad_chan_open(client, stride_for(size), p.window, o->poll, &chans[i]);
	}
	if (r == 0)
		r = run_case(chans, n, &p, ret);
	if (r == 0) {
		ret->mode = mode_name(mode);
		/* Events say where a channel moved, e.g. to the CPU after an engine died. */
		if (client)
			dmac_dispatch(client);
		snprintf(ret->engine, sizeof(ret->engine), "%s", chans[0]->ops->engine(chans[0]));
		for (unsigned i = 1; i < n; i++)
			if (strcmp(ret->engine, chans[i]->ops->engine(chans[i])))
				snprintf(ret->engine, sizeof(ret->engine), "mixed");
	}
	for (unsigned i = 0; i < n; i++)
		bench_chan_close(chans[i]);
	return r;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	for (int i = 0; s && i < argc; i++) {
		strcat(s, argv[i]);
		if (i + 1 < argc)
			strcat(s, " ");
	}
	return s;
}

int split_cpu = -1;

/* The first CPU of our mask, when there is another for the engine. */
static int split_cpu_init(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
		return -ENODEV;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			split_cpu = cpu;
			return 0;
		}
	}
	return -ENODEV;
}

static int connect_dmad(const struct options *o, struct daemon **ret_daemon,
			struct dmac_client **ret_client)
{
	const char *sock = o->socket;
	struct daemon *d = NULL;
	int r;

	if (!sock) {
		size_t n = 0;
		char **args;

		while (o->dmad_args[n])
			n++;
		args = calloc(n + 6, sizeof(*args));
		if (!args)
			return -ENOMEM;
		args[0] = "--engines";
		args[1] = (char *)o->engines;
		memcpy(args + 2, o->dmad_args, n * sizeof(*args));
		/*
		 * The in-process case runs the engine's thread on CPUs of its own
		 * (EAL puts control threads off the lcores) and everything else on
		 * the first CPU. Give dmad the same split: its lcores on that CPU,
		 * so its engine threads land on the others, and the client there
		 * too (split_cpu). Same engine, same CPUs: the ratio is dmad's cost.
		 */
		if (!n && !o->shared_cpus && split_cpu_init() == 0) {
			static char lcores[32];

			snprintf(lcores, sizeof(lcores), "(0-1)@(%d)", split_cpu);
			args[2] = "--";
			args[3] = "--lcores";
			args[4] = lcores;
		}
		r = daemon_start(o->dmad, args, &d);
		free(args);
		if (r < 0)
			return r;
		sock = daemon_socket(d);
	}
	r = dmac_connect(sock, "dmad-bench", ret_client);
	if (r < 0) {
		fprintf(stderr, "dmad-bench: cannot connect to dmad at %s: %s\n", sock,
			strerror(-r));
		daemon_stop(d);
		return r;
	}
	*ret_daemon = d;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.dmad = DMAD_PATH,
		.engines = "1",
		.sizes = {64, 4096, 65536, 1u << 20},
		.n_sizes = 4,
		.modes = MODE_INPROC | MODE_CPU | MODE_DMAD,
		.channels = 4,
		.window = 64,
		.max_ops = 2000000,
		.duration_s = 0.5,
		.lat_samples = 2000,
		.hotpath_batch = 1,
	};
	struct bench_result res[MAX_SIZES * 4];
	struct dmac_client *client = NULL;
	struct daemon *daemon = NULL;
	size_t n_res = 0;
	bool failed = false;
	FILE *table = stdout;
	int r;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (o.hotpath_ops) {
		r = connect_dmad(&o, &daemon, &client);
		if (r == 0)
			r = hotpath_run(client, o.sizes[0], o.hotpath_ops, o.hotpath_batch);
		if (r < 0)
			fprintf(stderr, "dmad-bench: hotpath: %s\n", strerror(-r));
		dmac_disconnect(client);
		daemon_stop(daemon);
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}

	/* dmad first: forking after EAL started its threads would be fragile. */
	if (o.modes & MODE_DMAD) {
		r = connect_dmad(&o, &daemon, &client);
		if (r < 0)
			return EXIT_FAILURE;
	}
	if (o.modes & MODE_INPROC) {
		r = inproc_init(INPROC_NB_DESC);
		if (r < 0) {
			fprintf(stderr, "dmad-bench: cannot create the in-process engine: %s\n",
				strerror(-r));
			dmac_disconnect(client);
			daemon_stop(daemon);
			return EXIT_FAILURE;
		}
	}

	for (unsigned s = 0; s < o.n_sizes; s++) {
		static const struct {
			unsigned mode;
			bool multi;
		} order[] = {
			{MODE_INPROC, false},
			{MODE_CPU, false},
			{MODE_DMAD, false},
			{MODE_DMAD, true},
		};

		for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			unsigned n = order[k].multi ? o.channels : 1;

			if (!(o.modes & order[k].mode) || (order[k].multi && n == 1))
				continue;
			r = run_mode(order[k].mode, n, client, &o, o.sizes[s], &res[n_res]);
			if (r < 0) {
				fprintf(stderr, "dmad-bench: %zu bytes, %s x%u: %s\n", o.sizes[s],
					mode_name(order[k].mode), n, strerror(-r));
				failed = true;
				continue;
			}
			failed = failed || !res[n_res].verified;
			n_res++;
		}
	}

	dmac_disconnect(client);
	daemon_stop(daemon);
	if (o.modes & MODE_INPROC)
		inproc_fini();

	if (o.json && !strcmp(o.json, "-"))
		table = stderr;
	report_table(table, res, n_res);
	if (o.json) {
		FILE *f = strcmp(o.json, "-") ? fopen(o.json, "w") : stdout;
		char *cmd = join_args(argc, argv);

		if (!f || !cmd || report_json(f, res, n_res, cmd) < 0) {
			fprintf(stderr, "dmad-bench: cannot write %s\n", o.json);
			failed = true;
		}
		free(cmd);
		if (f && f != stdout)
			fclose(f);
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
