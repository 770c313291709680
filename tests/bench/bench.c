/* SPDX-License-Identifier: MIT */
/*
 * dmad-bench: for each size, the in-process baseline, CPU memcpy, and dmad
 * in two layouts (one channel, then several), back to back in one run so
 * that their ratios mean something on a noisy machine:
 *
 *   dmad      the shared-CPU layout: the client and dmad's lcores on one
 *             CPU, the dma_skeleton engine's thread on the others, as the
 *             in-process case has it;
 *   dmad-cpu  the dedicated layout: dmad's CPU engine, its worker on a CPU
 *             of its own, the client (and dmad's main lcore) on another.
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
	MODE_DMAD_CPU = 1u << 3,
};

/* A dmad the cases of one mode run against. */
struct target {
	struct daemon *daemon; /* NULL: not started here */
	struct dmac_client *client;
	pid_t pid;	/* 0: unknown */
	int client_cpu; /* the CPU the client's threads are pinned to; -1: none */
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
		"  --modes LIST        inproc,cpu,dmad,dmad-cpu (all)\n"
		"  --channels N        dmad channels, one thread each, for the second dmad case (4;\n"
		"                      1 runs only the single-channel case)\n"
		"  --window N          copies in flight per channel (64; at most %u MiB)\n"
		"  --duration SEC      per case, the throughput pass (0.5)\n"
		"  --ops N             per case, at most this many copies (2000000)\n"
		"  --lat-samples N     depth-1 latency samples per channel (2000)\n"
		"  --poll              dmad: poll dmac_is_complete() instead of dmac_wait()\n"
		"  --socket PATH       dmad mode: use the dmad listening there instead of starting\n"
		"                      one (dmad-cpu then does not run)\n"
		"  --dmad PATH         dmad to start (%s)\n"
		"  --engines N         --engines for the dmad started here (1)\n"
		"  --shared-cpus       dmad mode: let dmad's engine thread share CPUs with its\n"
		"                      worker and the client (default: the engine gets a CPU of\n"
		"                      its own, as in the in-process case)\n"
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
		else if (!strcmp(s, "dmad-cpu"))
			m |= MODE_DMAD_CPU;
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
	return mode == MODE_INPROC ? "inproc"
	       : mode == MODE_CPU  ? "cpu"
	       : mode == MODE_DMAD ? "dmad"
				   : "dmad-cpu";
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
static int run_mode(unsigned mode, unsigned n, const struct target *t, const struct options *o,
		    size_t size, struct bench_result *ret)
{
	struct dmac_client *client = t ? t->client : NULL;
	struct bench_chan *chans[256] = {0};
	struct run_params p = {
		.size = size,
		.window = window_for(o, size),
		.max_ops = o->max_ops,
		.duration_s = o->duration_s,
		.lat_samples = o->lat_samples,
		.lat_duration_s = o->duration_s / 2,
		.dmad_pid = t ? t->pid : 0,
	};
	int r = 0;

	for (unsigned i = 0; i < n && r == 0; i++) {
		if (mode == MODE_INPROC)
			r = inproc_chan_open(stride_for(size), p.window, &chans[i]);
		else if (mode == MODE_CPU)
			r = cpu_chan_open(stride_for(size), p.window, &chans[i]);
		else
			r = dmad_chan_open(client, stride_for(size), p.window, o->poll,
					   t->client_cpu, &chans[i]);
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
static int other_cpu = -1; /* dmad-cpu: the worker's CPU */

/* The first CPU of our mask, and the next, when there is one. */
static int split_cpu_init(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
		return -ENODEV;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (split_cpu < 0) {
			split_cpu = cpu;
		} else {
			other_cpu = cpu;
			return 0;
		}
	}
	return -ENODEV;
}

/*
 * dmad: the in-process case runs the engine's thread on CPUs of its own
 * (EAL puts control threads off the lcores) and everything else on the
 * first CPU. Give dmad the same split: its lcores on that CPU, so its
 * engine threads land on the others, and the client there too (split_cpu).
 * Same engine, same CPUs: the ratio is dmad's cost.
 *
 * dmad-cpu: no engine thread; dmad's worker lcore on the second CPU, its
 * main lcore (the control thread, asleep while copies run) and the client
 * on the first.
 */
static int connect_dmad(const struct options *o, unsigned mode, struct target *ret)
{
	static char lcores[2][32];
	const char *sock = mode == MODE_DMAD ? o->socket : NULL;
	bool own_args = mode == MODE_DMAD && o->dmad_args[0];
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
		args[1] = mode == MODE_DMAD ? (char *)o->engines : "cpu";
		ret->client_cpu = -1;
		if (own_args) {
			memcpy(args + 2, o->dmad_args, n * sizeof(*args));
		} else if (mode == MODE_DMAD && !o->shared_cpus && split_cpu >= 0) {
			snprintf(lcores[0], sizeof(lcores[0]), "(0-1)@(%d)", split_cpu);
			args[2] = "--";
			args[3] = "--lcores";
			args[4] = lcores[0];
			ret->client_cpu = split_cpu;
		} else if (mode == MODE_DMAD_CPU) {
			snprintf(lcores[1], sizeof(lcores[1]), "0@(%d),1@(%d)", split_cpu,
				 other_cpu);
			args[2] = "--";
			args[3] = "--lcores";
			args[4] = lcores[1];
			ret->client_cpu = split_cpu;
		}
		r = daemon_start(o->dmad, args, &d);
		free(args);
		if (r < 0)
			return r;
		sock = daemon_socket(d);
	}
	r = dmac_connect(sock, "dmad-bench", &ret->client);
	if (r < 0) {
		fprintf(stderr, "dmad-bench: cannot connect to dmad at %s: %s\n", sock,
			strerror(-r));
		daemon_stop(d);
		return r;
	}
	ret->daemon = d;
	ret->pid = d ? daemon_pid(d) : 0;
	return 0;
}

static void disconnect_dmad(struct target *t)
{
	dmac_disconnect(t->client);
	daemon_stop(t->daemon);
	*t = (struct target){0};
}

int main(int argc, char **argv)
{
	struct options o = {
		.dmad = DMAD_PATH,
		.engines = "1",
		.sizes = {64, 4096, 65536, 1u << 20},
		.n_sizes = 4,
		.modes = MODE_INPROC | MODE_CPU | MODE_DMAD | MODE_DMAD_CPU,
		.channels = 4,
		.window = 64,
		.max_ops = 2000000,
		.duration_s = 0.5,
		.lat_samples = 2000,
		.hotpath_batch = 1,
	};
	struct bench_result res[MAX_SIZES * 6];
	struct target dmad = {.client_cpu = -1}, dmad_cpu = {.client_cpu = -1};
	size_t n_res = 0;
	bool failed = false;
	FILE *table = stdout;
	int r;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	split_cpu_init();
	if (o.hotpath_ops) {
		r = connect_dmad(&o, MODE_DMAD, &dmad);
		if (r == 0)
			r = hotpath_run(dmad.client, o.sizes[0], o.hotpath_ops, o.hotpath_batch);
		if (r < 0)
			fprintf(stderr, "dmad-bench: hotpath: %s\n", strerror(-r));
		disconnect_dmad(&dmad);
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if ((o.modes & MODE_DMAD_CPU) && (o.socket || other_cpu < 0)) {
		fprintf(stderr, "dmad-bench: dmad-cpu needs two CPUs and a dmad of its own: "
				"skipped\n");
		o.modes &= ~MODE_DMAD_CPU;
	}

	/* dmads first: forking after EAL started its threads would be fragile. */
	if (((o.modes & MODE_DMAD) && connect_dmad(&o, MODE_DMAD, &dmad) < 0) ||
	    ((o.modes & MODE_DMAD_CPU) && connect_dmad(&o, MODE_DMAD_CPU, &dmad_cpu) < 0)) {
		disconnect_dmad(&dmad);
		return EXIT_FAILURE;
	}
	if (o.modes & MODE_INPROC) {
		r = inproc_init(INPROC_NB_DESC);
		if (r < 0) {
			fprintf(stderr, "dmad-bench: cannot create the in-process engine: %s\n",
				strerror(-r));
			disconnect_dmad(&dmad);
			disconnect_dmad(&dmad_cpu);
			return EXIT_FAILURE;
		}
	}

	for (unsigned s = 0; s < o.n_sizes; s++) {
		static const struct {
			unsigned mode;
			bool multi;
		} order[] = {
			{MODE_INPROC, false}, {MODE_CPU, false},      {MODE_DMAD, false},
			{MODE_DMAD, true},    {MODE_DMAD_CPU, false}, {MODE_DMAD_CPU, true},
		};

		for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			unsigned n = order[k].multi ? o.channels : 1;
			const struct target *t = order[k].mode == MODE_DMAD	  ? &dmad
						 : order[k].mode == MODE_DMAD_CPU ? &dmad_cpu
										  : NULL;

			if (!(o.modes & order[k].mode) || (order[k].multi && n == 1))
				continue;
			r = run_mode(order[k].mode, n, t, &o, o.sizes[s], &res[n_res]);
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

	disconnect_dmad(&dmad);
	disconnect_dmad(&dmad_cpu);
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
