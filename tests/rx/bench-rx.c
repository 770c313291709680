/* SPDX-License-Identifier: MIT */
/*
 * bench-rx: one UDP flow received four ways in one run, against the same
 * unpaced sender over a veth pair (MTU 9000, so 8 KiB datagrams arrive
 * whole): dmad's receive offload with every payload copied by the DMA
 * engine (`dmad-dma`, flow copybreak 0) or by the rx thread's CPU
 * (`dmad-cpu`, copybreak above any datagram), and the kernel's own socket
 * read with recvmmsg() (`recvmmsg`) or io_uring multishot recv into a
 * provided buffer ring (`uring`), both with an 8 MB SO_RCVBUF.
 *
 * For each case: datagrams/s delivered to the client, the share of what was
 * sent that it got, and CPU seconds per GB delivered: the client's (this
 * process), dmad's (every thread; its rx thread alone too), and the two
 * together ("total"). The sender's CPU is shown apart and left out of the
 * total: the kernel's receive work (the XDP program, the AF_XDP or socket
 * queueing) mostly runs in softirq on the sender's CPU and is charged to
 * it, for every mode alike.
 *
 * Root only (network namespaces); a benchmark, not a test:
 * `meson test --benchmark --suite rx`, or by hand with DMAD_BIN set.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "jsonread.h"
#include "rxnet.h"
#include "rxsock.h"

#define PORT 7401
/*
 * A flow's receive area is its SO_RCVBUF: slots of the datagram's size and
 * at most 16 MiB of them (and 65536), so that the client may fall as many
 * datagrams behind as a socket's reader at every size, or more.
 */
#define AREA_BYTES (16u << 20)
#define RCVBUF	   (8 << 20)
#define MAX_SIZES  8
#define MAX_RUNS   9
#define LATE_MS	   3000

enum mode { DMAD_DMA, DMAD_CPU, RECVMMSG, URING, NMODES };

static const char *const mode_names[NMODES] = {"dmad-dma", "dmad-cpu", "recvmmsg", "uring"};

/* One case, one run: raw counts and CPU seconds. */
struct sample {
	uint64_t sent, packets, bytes;
	uint64_t no_slot; /* dmad: dropped because the client held every slot */
	uint64_t vethq;	  /* the kernel dropped: the veth's queue (rxnet_drops()) */
	uint64_t rxq;	  /* ... the AF_XDP socket (dmactl's count), or the UDP socket's buffer */
	uint64_t late;	  /* dmad: delivered only after the reader had given up */
	uint64_t noport;  /* passed to the kernel's stack, no socket on the port */
	double secs, client, dmad, rx, sender;
};

/* What a row shows: the median of each figure over the runs. */
struct row {
	uint32_t size;
	enum mode mode;
	uint64_t sent, packets, no_slot, vethq, rxq, late;
	double kpps, pct, total, client, dmad, rx, sender;
};

struct opts {
	uint32_t sizes[MAX_SIZES];
	unsigned nsizes;
	bool modes[NMODES];
	unsigned runs;
	double scale;
	unsigned pace_us;
	const char *json;
};

/* utime + stime of /proc/@pid[/task/@tid]/stat, in seconds. */
static double proc_cpu(pid_t pid, const char *task)
{
	char path[128], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), task ? "/proc/%d/task/%s/stat" : "/proc/%d/stat", (int)pid,
		 task);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After "comm)": state and 11 more fields, then utime and stime. */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double rusage_cpu(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The tid of dmad's rx thread ("rx-<ifname>"), into @tid. */
static bool rx_thread(pid_t pid, char tid[32])
{
	char path[64], comm[64];
	struct dirent *e;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && !found && (e = readdir(dir))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", (int)pid, e->d_name);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strncmp(comm, "rx-" RXNET_IF, 8)) {
			snprintf(tid, 32, "%.31s", e->d_name);
			found = true;
		}
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return found;
}

/* Read the flow in place until the stream is over (see rxsock.h). */
static struct rxsock_count dmad_receive(struct dmac_rx *rx)
{
	struct rxsock_count c = {0};

	for (;;) {
		struct dmac_rx_pkt p[64];
		int got = dmac_rx_peek(rx, p, 64);
		volatile uint8_t sink = 0;

		if (got < 0)
			tap_bail("dmac_rx_peek: %s", strerror(-got));
		if (got == 0) {
			struct pollfd pfd = {.fd = dmac_rx_fd(rx), .events = POLLIN};

			if (poll(&pfd, 1, c.packets ? RXSOCK_IDLE_MS : RXSOCK_FIRST_MS) == 0)
				break; /* the sender is done and the flow is quiet */
			continue;
		}
		if (!c.packets)
			c.first_ms = harness_now_ms();
		/* Touch each payload, as a consumer would. */
		for (int i = 0; i < got; i++) {
			sink += ((const uint8_t *)p[i].data)[0];
			c.bytes += p[i].len;
		}
		c.packets += (unsigned)got;
		dmac_rx_release(rx, (unsigned)got);
		c.last_ms = harness_now_ms();
	}
	return c;
}

/*
 * What still arrives after the reader gave up (RXSOCK_IDLE_MS without a
 * datagram): not received, but not lost either; dmad held it through a
 * stall. Read until LATE_MS pass without one, and count.
 */
static uint64_t dmad_late(struct dmac_rx *rx)
{
	struct pollfd pfd = {.fd = dmac_rx_fd(rx), .events = POLLIN};
	uint64_t n = 0;

	for (;;) {
		struct dmac_rx_pkt p[64];
		int got = dmac_rx_peek(rx, p, 64);

		if (got < 0)
			tap_bail("dmac_rx_peek: %s", strerror(-got));
		if (got > 0) {
			n += (unsigned)got;
			dmac_rx_release(rx, (unsigned)got);
		} else if (poll(&pfd, 1, LATE_MS) == 0) {
			return n;
		}
	}
}

/*
 * What the flow's AF_XDP socket dropped (its RX ring full, or its fill ring
 * empty), as dmad reads it from the kernel: `dmactl --json flows`. A case's
 * flow is the only one, on a socket of its own. 0 without $DMACTL_BIN.
 */
static uint64_t xsk_drops(const struct harness_dmad *d)
{
	const char *dmactl = getenv("DMACTL_BIN");
	char out[8192];
	struct jv *root;
	uint64_t n;

	if (!dmactl || !*dmactl)
		return 0;
	if (harness_run((char *[]){(char *)dmactl, "--socket", (char *)d->socket, "--json", "flows",
				   NULL},
			out, sizeof(out), 10000) != 0) {
		tap_diag("%s --json flows failed: the AF_XDP socket's drops are not counted",
			 dmactl);
		return 0;
	}
	root = jv_parse(out);
	n = (uint64_t)jv_num(jv_get(jv_get(jv_at(jv_get(root, "flows"), 0), "drops"), "kernel"), 0);
	jv_free(root);
	return n;
}

static struct sample run_case(struct harness_dmad *d, struct dmac_client *c, uint32_t size,
			      enum mode mode, uint32_t n, unsigned pace_us)
{
	uint32_t slot = (size + 63) & ~63u, slots = 65536;
	struct sample s = {.sent = n};
	struct dmac_rx *rx = NULL;
	struct rxsock_uring *u = NULL;
	struct rxsock_count got;
	struct rxnet_drops k0, k1;
	uint64_t xsk0 = 0;
	double cli0, dmad0, rx0 = 0, snd0;
	char tid[32];
	bool have_tid = false;
	pid_t sender;
	int fd = -1, r;

	while ((uint64_t)slots * slot > AREA_BYTES)
		slots /= 2; /* a power of two */
	if (mode == DMAD_DMA || mode == DMAD_CPU) {
		struct dmac_rx_spec spec = rxnet_spec(PORT, slot, slots);

		spec.flags = DMAC_RX_SET_COPYBREAK;
		spec.copybreak = mode == DMAD_DMA ? 0 : UINT32_MAX;
		r = dmac_rx_open(c, &spec, &rx);
		if (r < 0)
			tap_bail("dmac_rx_open: %s", strerror(-r));
		have_tid = rx_thread(d->pid, tid);
	} else {
		fd = rxsock_open(PORT, RCVBUF);
		if (mode == URING)
			u = rxsock_uring_new(fd, slot);
	}
	k0 = rxnet_drops();
	/* The AF_XDP socket's drop count covers its whole life, every case before. */
	if (rx)
		xsk0 = xsk_drops(d);
	cli0 = rusage_cpu(RUSAGE_SELF);
	snd0 = rusage_cpu(RUSAGE_CHILDREN);
	dmad0 = proc_cpu(d->pid, NULL);
	if (have_tid)
		rx0 = proc_cpu(d->pid, tid);

	sender = rxnet_send(PORT, n, &size, 1, pace_us);
	if (rx)
		got = dmad_receive(rx);
	else if (mode == RECVMMSG)
		got = rxsock_recvmmsg(fd, slot);
	else
		got = rxsock_uring_run(u);
	s.client = rusage_cpu(RUSAGE_SELF) - cli0;
	s.dmad = proc_cpu(d->pid, NULL) - dmad0;
	s.rx = have_tid ? proc_cpu(d->pid, tid) - rx0 : 0;
	harness_wait_child(sender, 60000, "sender");
	/* The sender, reaped: RUSAGE_CHILDREN counts it now. */
	s.sender = rusage_cpu(RUSAGE_CHILDREN) - snd0;
	k1 = rxnet_drops();
	s.vethq = k1.veth_tx - k0.veth_tx;
	s.rxq = rx ? 0 : k1.udp_rcvbuf - k0.udp_rcvbuf;
	s.noport = k1.udp_noports - k0.udp_noports;
	if (s.noport)
		tap_diag(
			"%s, %u B: %llu datagrams went to the kernel's stack, no socket on their port",
			mode_names[mode], size, (unsigned long long)s.noport);
	s.packets = got.packets;
	s.bytes = got.bytes;
	s.secs = (double)(got.last_ms - got.first_ms) / 1000.0;
	if (rx) {
		struct dmac_rx_stats st;

		if (got.packets < n)
			s.late = dmad_late(rx);
		s.rxq = xsk_drops(d) - xsk0;
		dmac_rx_stats(rx, &st);
		s.no_slot = st.drop_no_slot;
		if (st.drop_too_large || st.drop_dma_error)
			tap_diag("%s, %u B: dmad dropped %llu too large, %llu whose copy failed",
				 mode_names[mode], size, (unsigned long long)st.drop_too_large,
				 (unsigned long long)st.drop_dma_error);
		dmac_rx_close(rx);
	} else {
		if (u)
			rxsock_uring_free(u);
		close(fd);
	}
	return s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double per_gb(double secs, uint64_t bytes)
{
	return bytes ? secs / ((double)bytes / 1e9) : 0;
}

/* Each figure's median over @n runs, each taken on its own. */
static struct row summarize(uint32_t size, enum mode mode, const struct sample *s, unsigned n)
{
	double v[12][MAX_RUNS];
	struct row r = {.size = size, .mode = mode, .sent = s[0].sent};

	for (unsigned i = 0; i < n; i++) {
		v[0][i] = s[i].secs > 0 ? (double)s[i].packets / s[i].secs / 1e3 : 0;
		v[1][i] = s[i].sent ? 100.0 * (double)s[i].packets / (double)s[i].sent : 0;
		v[2][i] = per_gb(s[i].client + s[i].dmad, s[i].bytes);
		v[3][i] = per_gb(s[i].client, s[i].bytes);
		v[4][i] = per_gb(s[i].dmad, s[i].bytes);
		v[5][i] = per_gb(s[i].rx, s[i].bytes);
		v[6][i] = per_gb(s[i].sender, s[i].bytes);
		v[7][i] = (double)s[i].packets;
		v[8][i] = (double)s[i].no_slot;
		v[9][i] = (double)s[i].vethq;
		v[10][i] = (double)s[i].rxq;
		v[11][i] = (double)s[i].late;
	}
	r.kpps = median(v[0], n);
	r.pct = median(v[1], n);
	r.total = median(v[2], n);
	r.client = median(v[3], n);
	r.dmad = median(v[4], n);
	r.rx = median(v[5], n);
	r.sender = median(v[6], n);
	r.packets = (uint64_t)median(v[7], n);
	r.no_slot = (uint64_t)median(v[8], n);
	r.vethq = (uint64_t)median(v[9], n);
	r.rxq = (uint64_t)median(v[10], n);
	r.late = (uint64_t)median(v[11], n);
	return r;
}

static bool is_dmad(enum mode m)
{
	return m == DMAD_DMA || m == DMAD_CPU;
}

static void print_table(FILE *f, const struct row *r, unsigned n)
{
	fprintf(f, "%6s %-8s %8s %9s %6s %7s %6s %6s %8s %7s %9s %9s %9s %9s %9s\n", "size", "mode",
		"sent", "received", "late", "noslot", "vethq", "rxq", "kpps", "deliv%", "total",
		"client", "dmad", "rx-thr", "sender");
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "%6u %-8s %8llu %9llu %6llu %7llu %6llu %6llu %8.1f %7.1f %9.2f %9.2f ",
			r[i].size, mode_names[r[i].mode], (unsigned long long)r[i].sent,
			(unsigned long long)r[i].packets, (unsigned long long)r[i].late,
			(unsigned long long)r[i].no_slot, (unsigned long long)r[i].vethq,
			(unsigned long long)r[i].rxq, r[i].kpps, r[i].pct, r[i].total, r[i].client);
		if (is_dmad(r[i].mode))
			fprintf(f, "%9.2f %9.2f %9.2f\n", r[i].dmad, r[i].rx, r[i].sender);
		else
			fprintf(f, "%9s %9s %9.2f\n", "-", "-", r[i].sender);
	}
	fprintf(f,
		"(late: dmad delivered them after the reader had waited %d ms for one and\n"
		" stopped; not in received. noslot: dropped by dmad, the client held every\n"
		" slot. Dropped by the kernel: vethq, in the veth's queue (with XDP on, 256\n"
		" frames NAPI drains); rxq, by the AF_XDP socket (dmad; its RX ring full or\n"
		" fill ring empty, with $DMACTL_BIN set) or in the UDP socket's buffer. CPU\n"
		" columns: seconds per GB delivered; total = client + dmad, the sender apart)\n",
		RXSOCK_IDLE_MS);
}

static void print_json(FILE *f, const struct row *r, unsigned n, const struct opts *o)
{
	fprintf(f, "{\"runs\":%u,\"pace_us\":%u,\"results\":[", o->runs, o->pace_us);
	for (unsigned i = 0; i < n; i++)
		fprintf(f,
			"%s{\"size\":%u,\"mode\":\"%s\",\"sent\":%llu,\"received\":%llu,"
			"\"late\":%llu,\"no_slot\":%llu,\"veth_queue_drops\":%llu,\"rx_queue_drops\":%llu,\"kpps\":%.2f,\"delivered_pct\":%.2f,\"total_cpu_s_per_gb\":%.3f,"
			"\"client_cpu_s_per_gb\":%.3f,\"dmad_cpu_s_per_gb\":%.3f,"
			"\"rx_thread_cpu_s_per_gb\":%.3f,\"sender_cpu_s_per_gb\":%.3f}",
			i ? "," : "", r[i].size, mode_names[r[i].mode],
			(unsigned long long)r[i].sent, (unsigned long long)r[i].packets,
			(unsigned long long)r[i].late, (unsigned long long)r[i].no_slot,
			(unsigned long long)r[i].vethq, (unsigned long long)r[i].rxq, r[i].kpps,
			r[i].pct, r[i].total, r[i].client, r[i].dmad, r[i].rx, r[i].sender);
	fprintf(f, "]}\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-rx [options]\n"
		"  --sizes LIST   datagram payload sizes in bytes (64,1024,8192; at most %d)\n"
		"  --modes LIST   dmad-dma,dmad-cpu,recvmmsg,uring (all)\n"
		"  --runs N       runs of every case, interleaved; each figure is the median\n"
		"                 (1, at most %d)\n"
		"  --scale X      datagrams sent per case: X times 200000/100000/30000 for\n"
		"                 up to 256 B/4 KiB/larger (1)\n"
		"  --pace-us N    the sender pauses N us after every 16 datagrams (0: unpaced)\n"
		"  --json FILE    also write the rows as JSON\n"
		"  --help\n"
		"Root only; DMAD_BIN names the dmad to start.\n",
		MAX_SIZES, MAX_RUNS);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"sizes", required_argument, NULL, 's'},   {"modes", required_argument, NULL, 'm'},
		{"runs", required_argument, NULL, 'r'},	   {"scale", required_argument, NULL, 'x'},
		{"pace-us", required_argument, NULL, 'p'}, {"json", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	   {0},
	};
	char *tok, *save, *end;
	int c;

	*o = (struct opts){.sizes = {64, 1024, 8192}, .nsizes = 3, .runs = 1, .scale = 1};
	for (int m = 0; m < NMODES; m++)
		o->modes[m] = true;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->nsizes = 0;
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				unsigned long v = strtoul(tok, &end, 10);

				if (*end || v < 4 || v > 8192 || o->nsizes == MAX_SIZES)
					goto bad;
				o->sizes[o->nsizes++] = (uint32_t)v;
			}
			if (!o->nsizes)
				goto bad;
			break;
		case 'm':
			memset(o->modes, 0, sizeof(o->modes));
			for (tok = strtok_r(optarg, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				int m = 0;

				while (m < NMODES && strcmp(tok, mode_names[m]))
					m++;
				if (m == NMODES)
					goto bad;
				o->modes[m] = true;
			}
			break;
		case 'r':
			o->runs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !o->runs || o->runs > MAX_RUNS)
				goto bad;
			break;
		case 'x':
			o->scale = strtod(optarg, &end);
			if (*end || !(o->scale > 0 && o->scale <= 100))
				goto bad;
			break;
		case 'p':
			o->pace_us = (unsigned)strtoul(optarg, &end, 10);
			if (*end)
				goto bad;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind == argc)
		return;
bad:
	usage(stderr);
	exit(2);
}

static uint32_t datagrams(uint32_t size, double scale)
{
	return (uint32_t)((size <= 256 ? 200000 : size <= 4096 ? 100000 : 30000) * scale);
}

/*
 * Twice what the cases should take (about 2 s each, plus the sender's
 * pauses, which oversleep on a loaded machine): a stuck case fails the run
 * rather than hang it.
 */
static unsigned watchdog_s(const struct opts *o)
{
	double s = 60;

	for (unsigned i = 0; i < o->nsizes; i++)
		s += 2.0 * o->runs * NMODES *
			     (2 +
			      datagrams(o->sizes[i], o->scale) / 16.0 * (o->pace_us + 100) / 1e6) +
		     2.0 * o->runs * LATE_MS / 1000.0; /* the dmad modes' wait for late ones */
	return (unsigned)s;
}

int main(int argc, char **argv)
{
	static struct sample s[MAX_SIZES][NMODES][MAX_RUNS];
	struct row rows[MAX_SIZES * NMODES];
	struct harness_dmad *d;
	struct dmac_client *c;
	struct opts o;
	unsigned nrows = 0;
	int r;

	parse_opts(argc, argv, &o);
	harness_watchdog(watchdog_s(&o));
	rxnet_setup();
	rxnet_set_mtu(9000); /* 8 KiB datagrams whole, in multi-buffer frames */
	d = harness_dmad_start("--copybreak", "0", "--engines", "1", NULL);
	r = dmac_connect(d->socket, "bench-rx", &c);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	/* Runs outermost: a slow spell on the shared machine hits every mode alike. */
	for (unsigned k = 0; k < o.runs; k++)
		for (unsigned i = 0; i < o.nsizes; i++)
			for (int m = 0; m < NMODES; m++)
				if (o.modes[m])
					s[i][m][k] =
						run_case(d, c, o.sizes[i], (enum mode)m,
							 datagrams(o.sizes[i], o.scale), o.pace_us);
	dmac_disconnect(c);
	harness_dmad_finish(d);

	for (unsigned i = 0; i < o.nsizes; i++)
		for (int m = 0; m < NMODES; m++)
			if (o.modes[m])
				rows[nrows++] =
					summarize(o.sizes[i], (enum mode)m, s[i][m], o.runs);
	if (o.runs > 1)
		printf("(medians of %u runs)\n", o.runs);
	print_table(stdout, rows, nrows);
	if (o.json) {
		FILE *f = fopen(o.json, "w");

		if (!f)
			tap_bail("cannot write %s: %s", o.json, strerror(errno));
		print_json(f, rows, nrows, &o);
		fclose(f);
	}
	return tap_done();
}
