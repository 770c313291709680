/* SPDX-License-Identifier: MIT */
/*
 * bench-rx: payload throughput and packets/s into a client through dmad's
 * receive offload, the same AF_XDP path with the payload copied by the DMA
 * engine (flow copybreak 0) and by the rx thread's CPU (copybreak above any
 * datagram), in one run against one dmad. For each case it reports what the
 * client received, what was dropped, and the CPU time dmad spent per GB
 * delivered: all of dmad, and its rx thread alone (with the software
 * dma_skeleton engine, the "DMA" copy is a memcpy on another dmad thread,
 * so only the rx thread's share says what a hardware engine would save).
 *
 * Root only (network namespaces); a benchmark, not a test:
 * `meson test --benchmark --suite rx` or run it by hand with DMAD_BIN and
 * DMACTL_BIN set. Optional argument: a JSON output path. The veth MTU is
 * 9000, so 8 KiB datagrams arrive whole (AF_XDP multi-buffer).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rxnet.h"

#define PORT	  7401
#define IDLE_MS	  300
#define SLOTS	  8192
#define SLOT_SIZE 2048

struct result {
	uint32_t size;
	const char *mode;
	uint64_t sent, packets, bytes, drops;
	double secs;
	double dmad_cpu, rx_cpu; /* seconds */
};

/* utime + stime of /proc/@pid[/task/@tid]/stat, in seconds. */
static double cpu_secs(pid_t pid, const char *task)
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

static struct result run_case(struct harness_dmad *d, struct dmac_client *c, uint32_t size,
			      bool dma, uint32_t n)
{
	struct dmac_rx_spec spec = rxnet_spec(PORT, size > SLOT_SIZE ? size : SLOT_SIZE, SLOTS);
	struct result res = {.size = size, .mode = dma ? "dma" : "cpu", .sent = n};
	int64_t first = 0, last = 0;
	double cpu0, rx0 = 0;
	struct dmac_rx_stats st;
	struct dmac_rx *rx;
	char tid[32];
	bool have_tid;
	pid_t sender;
	int r;

	spec.flags = DMAC_RX_SET_COPYBREAK;
	spec.copybreak = dma ? 0 : UINT32_MAX;
	r = dmac_rx_open(c, &spec, &rx);
	if (r < 0)
		tap_bail("dmac_rx_open: %s", strerror(-r));
	have_tid = rx_thread(d->pid, tid);
	cpu0 = cpu_secs(d->pid, NULL);
	if (have_tid)
		rx0 = cpu_secs(d->pid, tid);

	sender = rxnet_send(PORT, n, &size, 1, 0);
	for (;;) {
		struct dmac_rx_pkt p[64];
		int got = dmac_rx_peek(rx, p, 64);
		volatile uint8_t sink = 0;

		if (got < 0)
			tap_bail("dmac_rx_peek: %s", strerror(-got));
		if (got == 0) {
			struct pollfd pfd = {.fd = dmac_rx_fd(rx), .events = POLLIN};

			if (poll(&pfd, 1, IDLE_MS) == 0)
				break; /* the sender is done and the flow is quiet */
			continue;
		}
		if (!first)
			first = harness_now_ms();
		/* Touch each payload, as a consumer would. */
		for (int i = 0; i < got; i++) {
			sink += ((const uint8_t *)p[i].data)[0];
			res.bytes += p[i].len;
		}
		res.packets += (unsigned)got;
		dmac_rx_release(rx, (unsigned)got);
		last = harness_now_ms();
	}
	harness_wait_child(sender, 60000, "sender");
	res.dmad_cpu = cpu_secs(d->pid, NULL) - cpu0;
	res.rx_cpu = have_tid ? cpu_secs(d->pid, tid) - rx0 : 0;
	res.secs = (double)(last - first) / 1000.0;
	dmac_rx_stats(rx, &st);
	res.drops = res.sent - st.packets;
	dmac_rx_close(rx);
	return res;
}

static double per_gb(double secs, uint64_t bytes)
{
	return bytes ? secs / ((double)bytes / 1e9) : 0;
}

static void print(FILE *f, const struct result *r, unsigned n, bool json)
{
	if (!json)
		fprintf(f, "%6s %4s %9s %9s %8s %8s %7s %12s %12s\n", "size", "mode", "sent",
			"received", "Mpps", "Gbit/s", "drops", "dmad s/GB", "rx-thr s/GB");
	else
		fprintf(f, "{\"results\":[");
	for (unsigned i = 0; i < n; i++) {
		double mpps = r[i].secs > 0 ? (double)r[i].packets / r[i].secs / 1e6 : 0;
		double gbps = r[i].secs > 0 ? (double)r[i].bytes * 8 / r[i].secs / 1e9 : 0;

		if (json)
			fprintf(f,
				"%s{\"size\":%u,\"mode\":\"%s\",\"sent\":%llu,\"received\":%llu,"
				"\"mpps\":%.4f,\"gbps\":%.4f,\"drops\":%llu,"
				"\"dmad_cpu_s_per_gb\":%.3f,\"rx_thread_cpu_s_per_gb\":%.3f}",
				i ? "," : "", r[i].size, r[i].mode, (unsigned long long)r[i].sent,
				(unsigned long long)r[i].packets, mpps, gbps,
				(unsigned long long)r[i].drops, per_gb(r[i].dmad_cpu, r[i].bytes),
				per_gb(r[i].rx_cpu, r[i].bytes));
		else
			fprintf(f, "%6u %4s %9llu %9llu %8.3f %8.3f %7llu %12.2f %12.2f\n",
				r[i].size, r[i].mode, (unsigned long long)r[i].sent,
				(unsigned long long)r[i].packets, mpps, gbps,
				(unsigned long long)r[i].drops, per_gb(r[i].dmad_cpu, r[i].bytes),
				per_gb(r[i].rx_cpu, r[i].bytes));
	}
	if (json)
		fprintf(f, "]}\n");
}

int main(int argc, char **argv)
{
	static const struct {
		uint32_t size, n;
	} cases[] = {{64, 200000}, {1024, 100000}, {8192, 30000}};
	struct result res[2 * sizeof(cases) / sizeof(cases[0])];
	struct harness_dmad *d;
	struct dmac_client *c;
	unsigned n = 0;
	int r;

	harness_watchdog(280);
	rxnet_setup();
	rxnet_set_mtu(9000); /* 8 KiB datagrams whole, in multi-buffer frames */
	d = harness_dmad_start("--copybreak", "0", "--engines", "1", NULL);
	r = dmac_connect(d->socket, "bench-rx", &c);
	if (r < 0)
		tap_bail("dmac_connect: %s", strerror(-r));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		res[n++] = run_case(d, c, cases[i].size, true, cases[i].n);
		res[n++] = run_case(d, c, cases[i].size, false, cases[i].n);
	}
	dmac_disconnect(c);
	harness_dmad_finish(d);

	print(stdout, res, n, false);
	for (unsigned i = 0; i + 1 < n; i += 2)
		tap_diag("%u B: DMA/CPU throughput ratio %.2f", res[i].size,
			 res[i + 1].packets && res[i].secs > 0 && res[i + 1].secs > 0
				 ? ((double)res[i].bytes / res[i].secs) /
					   ((double)res[i + 1].bytes / res[i + 1].secs)
				 : 0);
	if (argc > 1) {
		FILE *f = fopen(argv[1], "w");

		if (!f)
			tap_bail("cannot write %s: %s", argv[1], strerror(errno));
		print(f, res, n, true);
		fclose(f);
	}
	return tap_done();
}
