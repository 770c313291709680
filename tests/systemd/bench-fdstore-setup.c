/* SPDX-License-Identifier: MIT */
/*
 * What keeping every session in the fd store (dmad --fdstore under a
 * manager, handover_live.h) costs a client's control requests: two dmads,
 * one plain and one with --fdstore whose store this program keeps, and a
 * client that times, alternately on each, a session's setup and teardown
 * (connect with HELLO, a region, a channel, and back), and a bare connect.
 * Prints the medians and their ratio: the figure is the ratio, taken
 * within one run (the machine is shared).
 *
 *   meson test --benchmark bench-fdstore-setup    BENCH_ROUNDS=N (300)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmaclient.h"
#include "harness.h"
#include "sdstore.h"

#define MAX_ROUNDS 5000

static char plain_sock[128], store_sock[128];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One session made and undone on @sock; its time in ns, 0 on failure. */
static uint64_t session(const char *sock, bool bare)
{
	uint64_t t0 = now_ns();
	struct dmac_client *c;
	struct dmac_chan *ch;
	void *r;

	if (dmac_connect(sock, "bench", &c) < 0)
		return 0;
	if (!bare) {
		r = dmac_region_alloc(c, 64 << 10);
		if (!r || dmac_chan_get(c, DMAC_CAP_COPY, &ch) < 0) {
			dmac_disconnect(c);
			return 0;
		}
		dmac_chan_put(ch);
		dmac_region_free(c, r);
	}
	dmac_disconnect(c);
	return now_ns() - t0;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

/* The client: medians of [plain full, store full, plain bare, store bare] to @out. */
static void client(int out, unsigned rounds)
{
	static uint64_t t[4][MAX_ROUNDS];
	uint64_t m[4];

	for (unsigned i = 0; i < rounds; i++)
		for (unsigned k = 0; k < 4; k++) {
			/* Alternate which dmad goes first, so that neither is always warm. */
			unsigned j = i % 2 ? k ^ 1 : k;

			t[j][i] = session(j % 2 ? store_sock : plain_sock, j >= 2);
			if (!t[j][i])
				_exit(1);
		}
	for (unsigned k = 0; k < 4; k++)
		m[k] = median(t[k], rounds);
	_exit(write(out, m, sizeof(m)) == sizeof(m) ? 0 : 1);
}

int main(void)
{
	const char *env = getenv("BENCH_ROUNDS");
	unsigned rounds = env ? (unsigned)atoi(env) : 300;
	struct sdt_proc plain, stored;
	uint64_t m[4];
	struct sds st;
	int pipefd[2], status = 0;
	pid_t pid;
	char *argv[] = {(char *)harness_env("DMAD_BIN"),
			"--socket",
			plain_sock,
			"--engines",
			"1",
			NULL,
			NULL};

	if (!rounds || rounds > MAX_ROUNDS)
		rounds = 300;
	sdt_path(plain_sock, sizeof(plain_sock), "plain.sock");
	sdt_path(store_sock, sizeof(store_sock), "store.sock");
	sds_open(&st);
	sdt_start(&plain, "dmad-plain", argv, NULL);
	argv[2] = store_sock;
	argv[5] = "--fdstore";
	sds_start(&st, &stored, "dmad-fdstore", argv);
	if (!sds_ready(&st, 30000) || !sdt_wait_connect(plain_sock, 30000) || pipe(pipefd) < 0)
		tap_bail("the dmads did not start");
	pid = harness_fork();
	if (pid == 0) {
		close(pipefd[0]);
		client(pipefd[1], rounds);
	}
	close(pipefd[1]);
	/* The manager reads its socket all along, as systemd does. */
	while (waitpid(pid, &status, WNOHANG) == 0)
		sds_hear(&st, 10);
	if (!WIFEXITED(status) || WEXITSTATUS(status) || read(pipefd[0], m, sizeof(m)) != sizeof(m))
		tap_bail("the client failed");
	printf("# %u rounds, medians: session (connect, region, channel, and back) %.1f us "
	       "plain, %.1f us with --fdstore (x%.2f); bare connect %.1f us, %.1f us (x%.2f)\n",
	       rounds, m[0] / 1e3, m[1] / 1e3, (double)m[1] / (double)m[0], m[2] / 1e3, m[3] / 1e3,
	       (double)m[3] / (double)m[2]);
	ok(true, "measured");
	sdt_stop(&plain, SIGTERM, 10000);
	sds_stop(&st, &stored, SIGTERM, 10000);
	sds_clear(&st);
	return tap_done();
}
