/* SPDX-License-Identifier: MIT */
/*
 * A receive flow survives dmad's crash under a service manager: this test
 * is the manager (its fd store, sdstore.h) and restarts dmad (--fdstore)
 * as Restart=on-failure would. A verifying copy client copies and a flow
 * receives from an independent sender (a process in the peer namespace
 * sending numbered datagrams over the veth pair, paced) while dmad is
 * SIGKILLed CRASH_COUNT times (5) at random moments. The copy client must
 * see no error and every byte right; the rx client no error, every
 * datagram byte-exact and in order with no duplicate (datagram numbers
 * and flow sequence numbers only rising), and what it got plus what dmad
 * and the kernel counted as dropped equal to what was sent. Each client
 * sees one RESTARTED event per crash; the longest stall of each over
 * each crash (a copy round, or a wait between datagrams, that overlaps
 * the time from the kill to the next dmad's READY=1) is reported.
 *
 * Then the hostile cases: the rx ledger in the UMEM memfd (rx_ledger.h)
 * scribbled on while dmad is down: the next dmad cannot resume the flow,
 * which ends loudly (-ENODEV on it), while the session goes on; and a
 * journal whose rx part names a queue out of range: refused whole, dmad
 * starts clean.
 *
 *   CRASH_COUNT=N CRASH_SEED=N    (defaults 5, time)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copier.h"
#include "handover_ext.h"
#include "handover_journal.h"
#include "handover_state.h"
#include "harness.h"
#include "jsonread.h"
#include "rxnet.h"
#include "sdstore.h"

#define PORT	    7303
#define STEP_MS	    30000
#define IDLE_MS	    3000
#define PACE_US	    8000 /* after every 16 datagrams: ~2000 a second */
#define N_DGRAMS    40000
#define MAX_CRASHES 16
/* Where the ledger starts in the UMEM memfd: after RX_FRAMES (8192) frames of 4096. */
#define LEDGER_AT (8192ull * 4096)

static const uint32_t sizes[] = {4, 64, 200, 512, 1000, RXNET_MTU_PAYLOAD};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* What each client says, in memory shared with the test; single writer. */
struct shared {
	int stop_copy, stop_rx, rx_reported;
	/* Crash n: its SIGKILL went, and the next dmad was ready (harness_now_ms()). */
	int64_t kill_ms[MAX_CRASHES + 1], up_ms[MAX_CRASHES + 1];
	struct {
		int32_t err, done;
		uint32_t restarts;
		uint64_t rounds;
		int64_t stall_ms[MAX_CRASHES + 1]; /* longest round over crash n */
	} cp;
	struct {
		int32_t err, done;
		uint32_t restarts, got, bad_payload, bad_order;
		uint64_t flow_drops;
		int64_t gap_ms[MAX_CRASHES + 1]; /* longest wait for a datagram over crash n */
		int32_t after;	  /* what recv said once dmad could not resume the flow */
		int32_t chan;	  /* dmac_chan_get() after it */
		int32_t reopened; /* dmac_rx_open() of a second flow */
		int32_t second;	  /* what the second flow's recv said at last */
	} rx;
};

static char sock[128];
static struct shared *sh;

/* A wait from @t0 to @t1 over crash n (from its kill to the next dmad's
 * READY=1): the longest into @ms[n]. */
static void stall(int64_t *ms, int64_t t0, int64_t t1)
{
	for (unsigned n = 1; n <= MAX_CRASHES; n++) {
		int64_t k = __atomic_load_n(&sh->kill_ms[n], __ATOMIC_ACQUIRE);
		int64_t up = __atomic_load_n(&sh->up_ms[n], __ATOMIC_ACQUIRE);

		if (k && t1 >= k && (!up || t0 <= up) && t1 - t0 > ms[n])
			ms[n] = t1 - t0;
	}
}

static void on_event(const struct dmac_event *ev, void *arg)
{
	if (ev->type == DMAC_EVENT_RESTARTED)
		++*(uint32_t *)arg;
}

static __attribute__((noreturn)) void copy_main(void)
{
	uint32_t restarts = 0;
	struct copier k;
	int r = copier_init(&k, sock, "rxc-copier", 4 << 20, 4 << 20, 256 << 10, 77);

	if (r == 0) {
		dmac_chan_set_copybreak(k.ch, 0); /* every copy through the ring */
		dmac_set_event_cb(k.client, on_event, &restarts);
	}
	while (r == 0 && !__atomic_load_n(&sh->stop_copy, __ATOMIC_ACQUIRE)) {
		int64_t t0 = harness_now_ms(), took;

		r = copier_round(&k, 8);
		took = harness_now_ms() - t0;
		if (r == 0 && dmac_dispatch(k.client) < 0)
			r = -ENODEV;
		if (r < 0)
			break;
		stall(sh->cp.stall_ms, t0, t0 + took);
		__atomic_store_n(&sh->cp.restarts, restarts, __ATOMIC_RELEASE);
		__atomic_store_n(&sh->cp.rounds, sh->cp.rounds + 1, __ATOMIC_RELEASE);
	}
	sh->cp.err = r;
	if (r == 0)
		copier_fini(&k);
	__atomic_store_n(&sh->cp.done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* One datagram; its payload's first 4 bytes say which it is. */
static void check(const struct dmac_rx_pkt *p, uint32_t *next_k, uint32_t *last_seq)
{
	uint32_t k = UINT32_MAX;

	if (p->len >= 4)
		memcpy(&k, p->data, 4);
	if (k == UINT32_MAX || k < *next_k || p->seq <= *last_seq) {
		sh->rx.bad_order++;
		return;
	}
	if (p->len != sizes[k % NSIZES] || !rxnet_payload_ok(p->data, k, p->len))
		sh->rx.bad_payload++;
	*next_k = k + 1;
	*last_seq = p->seq;
	sh->rx.got++;
}

/* Until @rx says something else than -ETIMEDOUT or a datagram. */
static int recv_until_end(struct dmac_client *c, struct dmac_rx *rx)
{
	char buf[2048];
	int r;

	while ((r = dmac_rx_recv(rx, buf, sizeof(buf), NULL, 100)) == -ETIMEDOUT || r >= 0)
		dmac_dispatch(c);
	return r;
}

static __attribute__((noreturn)) void rx_main(void)
{
	struct dmac_rx_spec spec = rxnet_spec(PORT, 2048, 4096);
	uint32_t next_k = 0, last_seq = 0, restarts = 0;
	struct dmac_rx_pkt pkts[64];
	struct dmac_rx_stats st;
	struct dmac_client *c;
	struct dmac_chan *ch;
	struct dmac_rx *rx, *rx2;
	int64_t last = 0, done_at = 0;
	int r = dmac_connect(sock, "rxc-receiver", &c);

	if (r == 0)
		r = dmac_rx_open(c, &spec, &rx);
	if (r < 0) {
		sh->rx.err = r;
		__atomic_store_n(&sh->rx.done, 1, __ATOMIC_RELEASE);
		_exit(1);
	}
	dmac_set_event_cb(c, on_event, &restarts);
	__atomic_store_n(&sh->rx.done, 2, __ATOMIC_RELEASE); /* open */
	/* Until the sender is done and nothing came for IDLE_MS. */
	for (;;) {
		struct pollfd p = {.fd = dmac_rx_fd(rx), .events = POLLIN};
		int n;

		if (!done_at && __atomic_load_n(&sh->stop_rx, __ATOMIC_ACQUIRE))
			done_at = harness_now_ms();
		if (done_at && harness_now_ms() - (last > done_at ? last : done_at) >= IDLE_MS)
			break;
		n = dmac_rx_peek(rx, pkts, 64);
		if (n < 0) {
			r = n;
			break;
		}
		if (dmac_dispatch(c) < 0) {
			r = -ENODEV;
			break;
		}
		__atomic_store_n(&sh->rx.restarts, restarts, __ATOMIC_RELEASE);
		if (n == 0) {
			poll(&p, 1, 100);
			continue;
		}
		if (last)
			stall(sh->rx.gap_ms, last, harness_now_ms());
		last = harness_now_ms();
		for (int i = 0; i < n; i++)
			check(&pkts[i], &next_k, &last_seq);
		dmac_rx_release(rx, (unsigned)n);
	}
	dmac_rx_stats(rx, &st);
	sh->rx.flow_drops = st.drop_no_slot + st.drop_too_large + st.drop_dma_error;
	sh->rx.err = r;
	__atomic_store_n(&sh->rx_reported, 1, __ATOMIC_RELEASE);
	if (r < 0)
		_exit(1);
	/* The flow stays open (the test reads its kernel drops) until dmad
	 * cannot take it back. */
	sh->rx.after = recv_until_end(c, rx);
	dmac_rx_close(rx);
	sh->rx.chan = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (sh->rx.chan == 0)
		dmac_chan_put(ch);
	sh->rx.reopened = dmac_rx_open(c, &spec, &rx2);
	__atomic_store_n(&sh->rx.done, 3, __ATOMIC_RELEASE);
	if (sh->rx.reopened == 0) {
		sh->rx.second = recv_until_end(c, rx2);
		dmac_rx_close(rx2);
	}
	__atomic_store_n(&sh->rx.done, 1, __ATOMIC_RELEASE);
	dmac_disconnect(c);
	_exit(0);
}

/* Hear until *@word reaches @want (true) or STEP_MS. */
static bool hear_until(struct sds *st, const int32_t *word, int32_t want)
{
	int64_t end = harness_now_ms() + STEP_MS;

	while (harness_now_ms() < end) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == want)
			return true;
		sds_hear(st, 10);
	}
	return false;
}

/* Until the copy client finished a round after @since rounds, or STEP_MS. */
static bool copies_after(struct sds *st, uint64_t since)
{
	int64_t end = harness_now_ms() + STEP_MS;

	while (harness_now_ms() < end) {
		if (__atomic_load_n(&sh->cp.done, __ATOMIC_ACQUIRE))
			return false;
		if (__atomic_load_n(&sh->cp.rounds, __ATOMIC_ACQUIRE) > since)
			return true;
		sds_hear(st, 10);
	}
	return false;
}

static void start(struct sds *st, struct sdt_proc *p, const char *name)
{
	sds_start_dmad(st, p, name, sock, (const char *const[]){"--copybreak", "0", NULL});
}

static int crash_and_restart(struct sds *st, unsigned n, struct sdt_proc *dead,
			     struct sdt_proc *next, const char *name)
{
	int r;

	__atomic_store_n(&sh->kill_ms[n], harness_now_ms(), __ATOMIC_RELEASE);
	r = sds_stop(st, dead, SIGKILL, STEP_MS);

	start(st, next, name);
	if (!sds_ready(st, STEP_MS)) {
		sdt_dump_log(dead);
		sdt_dump_log(next);
		return -ETIMEDOUT;
	}
	__atomic_store_n(&sh->up_ms[n], harness_now_ms(), __ATOMIC_RELEASE);
	return r;
}

/* The stored fd whose file is @link ("/memfd:dmad-umem ..."), or -1. */
static int stored(const struct sds *st, const char *link)
{
	char path[64], buf[128];

	for (unsigned i = 0; i < st->n; i++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", st->fds[i]);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n > 0 && (buf[n] = 0, !strncmp(buf, link, strlen(link))))
			return st->fds[i];
	}
	return -1;
}

/*
 * In the stored journal's whole state, the first rx socket's queue set to
 * @queue. Layouts as in daemon/handover_journal.h, handover_state.h and
 * handover_ext.h.
 */
static bool set_rx_queue(struct sds *st, uint32_t queue)
{
	struct handover_live_hdr j;
	struct handover_ext e;
	struct handover_hdr h;
	uint64_t at, off;
	int fd = -1;

	for (unsigned i = 0; i < st->n; i++)
		if (strstr(st->names[i], "-state"))
			fd = st->fds[i];
	if (fd < 0 || pread(fd, &j, sizeof(j), 0) != sizeof(j) || j.sel > 1)
		return false;
	off = j.slot[j.sel].off;
	if (pread(fd, &h, sizeof(h), (off_t)off) != sizeof(h))
		return false;
	at = off + h.hdr_size + (uint64_t)h.nclients * h.client_size +
	     (uint64_t)h.nregions * h.region_size + (uint64_t)h.nchans * h.chan_size +
	     (uint64_t)h.ndevices * h.device_size + (uint64_t)h.nfds * h.fd_size;
	if (pread(fd, &e, sizeof(e), (off_t)at) != sizeof(e) || !e.nrxsocks)
		return false;
	at += e.size + (uint64_t)h.nclients * e.client_size + (uint64_t)e.nuids * e.uid_size +
	      (uint64_t)e.nreleased * e.released_size + (uint64_t)e.ngone * e.gone_size +
	      (uint64_t)e.nrxifs * e.rxif_size + offsetof(struct handover_rxsock, queue);
	return pwrite(fd, &queue, 4, (off_t)at) == 4;
}

static double kernel_drops(void)
{
	char *argv[] = {
		(char *)harness_env("DMACTL_BIN"), "--socket", sock, "--json", "flows", NULL};
	static char out[16384];
	const struct jv *f;
	struct jv *root;
	double v = -1;

	if (harness_run(argv, out, sizeof(out), STEP_MS) != 0)
		return -1;
	root = jv_parse(out);
	f = root ? jv_at(jv_get(root, "flows"), 0) : NULL;
	v = f ? jv_num(jv_get(jv_get(f, "drops"), "kernel"), -1) : -1;
	jv_free(root);
	return v;
}

/* A positive number from the environment, or @def. */
static unsigned knob(const char *name, unsigned def)
{
	const char *v = getenv(name);
	unsigned n = v ? (unsigned)strtoul(v, NULL, 10) : 0;

	return n ? n : def;
}

int main(void)
{
	unsigned crashes = knob("CRASH_COUNT", 5);
	uint32_t seed = knob("CRASH_SEED", (unsigned)time(NULL)), junk = 0xdeadbeef;
	struct sdt_proc dmads[MAX_CRASHES + 3];
	unsigned crashed = 0, midstream = 0, journaled = 0;
	pid_t cp, rx, sender;
	double kdrops;
	struct sds st;
	int umem, r;

	harness_watchdog(300);
	unsetenv("DMAC_COPYBREAK");
	if (crashes > MAX_CRASHES)
		crashes = MAX_CRASHES;
	tap_diag("CRASH_SEED=%u CRASH_COUNT=%u", seed, crashes);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("out of memory");
	memset(dmads, 0, sizeof(dmads));
	/* Before dmad starts: it must run in the veth pair's namespace. Skips when not root. */
	rxnet_setup();
	sdt_path(sock, sizeof(sock), "dmad.sock");
	sds_open(&st);
	start(&st, &dmads[0], "dmad-0");
	if (!tap_ok(sds_ready(&st, STEP_MS), "dmad --fdstore under a manager: READY=1"))
		return tap_done();
	cp = harness_fork();
	if (cp == 0) {
		close(st.nfd);
		copy_main();
	}
	rx = harness_fork();
	if (rx == 0) {
		close(st.nfd);
		rx_main();
	}
	tap_ok(copies_after(&st, 0) && hear_until(&st, &sh->rx.done, 2),
	       "a verifying copy client copies and a flow on %s port %d is open", RXNET_IF, PORT);
	sender = rxnet_send(PORT, N_DGRAMS, sizes, NSIZES, PACE_US);

	for (unsigned n = 1; n <= crashes; n++) {
		char name[16];
		uint64_t since;

		/* Anywhere in a batch, a commit, a copy. */
		sds_hear_for(&st, 200 + (int)(rnd(&seed) % 800));
		since = __atomic_load_n(&sh->cp.rounds, __ATOMIC_ACQUIRE);
		midstream += waitpid(sender, NULL, WNOHANG) == 0;
		snprintf(name, sizeof(name), "dmad-%u", n);
		r = crash_and_restart(&st, n, &dmads[n - 1], &dmads[n], name);
		if (r != -SIGKILL) {
			tap_diag("crash %u: SIGKILL gave %d", n, r);
			break;
		}
		journaled += sdt_log_has(&dmads[n], "dmad ended without handing over") &&
			     sdt_log_has(&dmads[n], "rx: 1 of 1 flow(s) taken over");
		if (!copies_after(&st, since)) {
			tap_diag("crash %u: the copy client did not come through", n);
			break;
		}
		crashed++;
	}
	tap_ok(crashed == crashes && journaled == crashes,
	       "%u SIGKILLs at random moments; each next dmad took the sessions and the flow "
	       "from the journal (%u), the copy client through each",
	       crashed, journaled);
	tap_ok(midstream == crashes, "the sender was sending at each crash (%u)", midstream);
	tap_ok(harness_wait_child(sender, STEP_MS * 4, "sender"),
	       "the sender sent all %u datagrams", N_DGRAMS);
	__atomic_store_n(&sh->stop_rx, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->rx_reported, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&sh->rx.done, __ATOMIC_ACQUIRE) != 1)
		sds_hear_for(&st, 10);
	tap_ok(sh->rx.err == 0, "the rx client saw no error (%s)", strerror(-sh->rx.err));
	tap_ok(sh->rx.restarts == crashed, "the rx client saw one RESTARTED event per crash (%u)",
	       sh->rx.restarts);
	tap_ok(!sh->rx.bad_payload && !sh->rx.bad_order,
	       "every datagram delivered byte-exact and in order, none twice (%u bad, %u out of "
	       "order or again)",
	       sh->rx.bad_payload, sh->rx.bad_order);
	kdrops = kernel_drops();
	tap_ok(kdrops >= 0 && sh->rx.got + sh->rx.flow_drops + (uint64_t)kdrops == N_DGRAMS,
	       "delivered %u + dropped by dmad %llu + by the kernel %.0f == sent %u", sh->rx.got,
	       (unsigned long long)sh->rx.flow_drops, kdrops, N_DGRAMS);
	tap_ok(sh->cp.err == 0 && sh->cp.restarts == crashed,
	       "the copy client: %llu rounds of 8 copies verified, no error (%s), %u RESTARTED",
	       (unsigned long long)sh->cp.rounds, strerror(-sh->cp.err), sh->cp.restarts);
	for (unsigned n = 1; n <= crashed; n++)
		tap_diag("crash %u: longest stall: copy client %lld ms (one round), rx client %lld "
			 "ms (between datagrams)",
			 n, (long long)sh->cp.stall_ms[n], (long long)sh->rx.gap_ms[n]);

	/* Hostile: the ledger scribbled on while dmad is down. */
	r = sds_stop(&st, &dmads[crashed], SIGKILL, STEP_MS);
	umem = stored(&st, "/memfd:dmad-umem");
	tap_ok(r == -SIGKILL && umem >= 0 && pwrite(umem, &junk, 4, (off_t)LEDGER_AT) == 4,
	       "a SIGKILL; the stored UMEM's rx ledger scribbled on");
	start(&st, &dmads[crashed + 1], "dmad-ledger");
	tap_ok(sds_ready(&st, STEP_MS) &&
		       sdt_log_has(&dmads[crashed + 1], "cannot resume its flows"),
	       "the next dmad starts, and says it cannot resume the flow");
	tap_ok(hear_until(&st, &sh->rx.done, 3) && sh->rx.after == -ENODEV && sh->rx.chan == 0 &&
		       sh->rx.reopened == 0,
	       "the flow ends loudly (%d); its session goes on: a channel (%d), a new flow (%d)",
	       sh->rx.after, sh->rx.chan, sh->rx.reopened);
	tap_ok(copies_after(&st, __atomic_load_n(&sh->cp.rounds, __ATOMIC_ACQUIRE)) &&
		       sh->cp.err == 0,
	       "the copy client goes on");
	__atomic_store_n(&sh->stop_copy, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->cp.done, __ATOMIC_ACQUIRE))
		sds_hear_for(&st, 10);
	harness_wait_child(cp, STEP_MS, "copy client");

	/* Hostile: a journal whose rx socket names a queue out of range. */
	sds_hear_for(&st, 100);
	r = sds_stop(&st, &dmads[crashed + 1], SIGKILL, STEP_MS);
	tap_ok(r == -SIGKILL && set_rx_queue(&st, DMAD_RX_MAX_QUEUES),
	       "a SIGKILL; in the journal, the rx socket's queue out of range");
	start(&st, &dmads[crashed + 2], "dmad-hostile");
	tap_ok(sds_ready(&st, STEP_MS) &&
		       sdt_log_has(&dmads[crashed + 2], "refusing the handover state"),
	       "the next dmad starts anyway, and says it refused the journal's state");
	tap_ok(hear_until(&st, &sh->rx.done, 1) && sh->rx.second == -ENODEV,
	       "the second flow's client sees the daemon gone (%d)", sh->rx.second);
	harness_wait_child(rx, STEP_MS, "rx client");
	r = sds_stop(&st, &dmads[crashed + 2], SIGTERM, STEP_MS);
	tap_ok(r == 0, "which stops on SIGTERM (%d)", r);
	sds_clear(&st);
	return tap_done();
}
