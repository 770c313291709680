/* SPDX-License-Identifier: MIT */
/*
 * dmad SIGKILLed under a service manager, sessions kept: this test is the
 * manager (its fd store, sdstore.h) and restarts dmad as Restart=on-failure
 * would, with what the store holds. dmad (--fdstore) stores each fd as it
 * makes it and keeps a journal of its sessions (handover_live.h); the next
 * dmad takes them back and redoes, in order, what an engine held.
 *
 * Verifying clients copy throughout, every copy through the ring: rounds
 * of random copies (every destination byte, the guards around each, the
 * sources, and every cookie complete in order), and rounds of
 * write-after-read pairs, A: x -> y then B: src -> x with DMAC_FENCE, the
 * case a redo would get wrong without the fence (y must hold what x held
 * before B). dmad is killed CRASH_COUNT times (5) at random moments; a
 * client killed while dmad is down is reaped by the next one. Every client
 * must see no error, one RESTARTED event per crash, and verify a round
 * after each. The longest round (the stall in it) is reported. Last, a
 * journal whose names give a ring's fd for a doorbell and back: refused
 * whole, dmad starts clean, its client sees the daemon gone. Where there
 * is receive offload and root: a receiver's flow (nothing sent to it)
 * lives through every crash, and its session takes a channel after;
 * test-fdstore-rx-crash has datagrams flowing, and flows that end.
 *
 *   CRASH_COUNT=N CRASH_CLIENTS=N CRASH_SEED=N    (defaults 5, 2, time)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copier.h"
#include "handover_journal.h"
#include "handover_state.h"
#include "harness.h"
#include "jsonread.h"
#include "sdstore.h"
#ifdef FDSTORE_RX
#include "rxnet.h"
#endif

#define MAX_CLIENTS 8
#define STEP_MS	    30000
#define WAR_PAIRS   16
#define WAR_SLOT    (64u << 10)

/* What each client says, in memory shared with the test; single writer. */
struct client_rep {
	uint64_t rounds, copies, fenced, max_round_us;
	uint32_t restarts;
	int32_t err; /* the first error; 0 none */
	int32_t done;
};

struct shared {
	int stop;
	int doomed_ready;
	int holder_ready;
	int rx_ready;
	int rx_done;
	int32_t rx_result; /* what the flow's recv returned at last */
	int32_t rx_chan;   /* dmac_chan_get() after it */
	struct client_rep c[MAX_CLIENTS];
};

static char sock[128];
static struct shared *sh;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_event(const struct dmac_event *ev, void *arg)
{
	if (ev->type == DMAC_EVENT_RESTARTED)
		++*(uint32_t *)arg;
}

static dmac_cookie_t submit(struct copier *k, void *dst, const void *src, size_t len,
			    unsigned flags, dmac_cookie_t last)
{
	for (;;) {
		dmac_cookie_t c = dmac_memcpy(k->ch, dst, src, len, flags);
		int r;

		if (c != -EAGAIN || last < 0)
			return c;
		dmac_issue_pending(k->ch);
		r = dmac_wait(k->ch, last, COPIER_WAIT_MS);
		if (r < 0)
			return r;
	}
}

/*
 * WAR_PAIRS pairs: A_i copies x_i to y_i, then B_i (fenced) overwrites x_i
 * from the source. y_i must hold x_i's old bytes, x_i the source's, and
 * the guards around each y_i and the rest of each x slot stay as they were.
 */
static int war_round(struct copier *k, uint8_t *x, uint8_t *y, uint32_t seed)
{
	dmac_cookie_t cookies[2 * WAR_PAIRS], last = -1;
	size_t len[WAR_PAIRS], so[WAR_PAIRS], ystride = WAR_SLOT + 2 * COPIER_GUARD;
	size_t bad;
	int r;

	pat_fill(x, WAR_PAIRS * WAR_SLOT, 0, seed, false);
	pat_fill(y, WAR_PAIRS * ystride, 0, seed + 1, false);
	for (unsigned i = 0; i < WAR_PAIRS; i++) {
		uint8_t *xi = x + i * WAR_SLOT, *yi = y + i * ystride + COPIER_GUARD;

		len[i] = rnd_len(&k->rng, WAR_SLOT);
		so[i] = rnd(&k->rng) % (k->src_len - len[i] + 1);
		cookies[2 * i] = last = submit(k, yi, xi, len[i], 0, last);
		if (last >= 0)
			cookies[2 * i + 1] = last =
				submit(k, xi, k->src + so[i], len[i], DMAC_FENCE, last);
		if (last < 0) {
			tap_diag("war pair %u: %s", i, strerror((int)-last));
			return (int)last;
		}
		if (rnd(&k->rng) % 4 == 0)
			dmac_issue_pending(k->ch);
	}
	dmac_issue_pending(k->ch);
	r = dmac_wait(k->ch, last, COPIER_WAIT_MS);
	if (r < 0) {
		tap_diag("war round: dmac_wait: %s", strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < 2 * WAR_PAIRS; i++)
		if (dmac_is_complete(k->ch, cookies[i]) != DMAC_COMPLETE) {
			tap_diag("war cookie %d not complete after %d", cookies[i], last);
			return -EILSEQ;
		}
	for (unsigned i = 0; i < WAR_PAIRS; i++) {
		uint8_t *xi = x + i * WAR_SLOT, *yi = y + i * ystride;

		if ((bad = pat_check(yi, COPIER_GUARD, i * ystride, seed + 1, false)) <
			    COPIER_GUARD ||
		    (bad = pat_check(yi + COPIER_GUARD + len[i], ystride - COPIER_GUARD - len[i],
				     i * ystride + COPIER_GUARD + len[i], seed + 1, false)) <
			    ystride - COPIER_GUARD - len[i]) {
			tap_diag("war pair %u: a guard byte changed", i);
			return -EILSEQ;
		}
		if ((bad = pat_check(yi + COPIER_GUARD, len[i], i * WAR_SLOT, seed, false)) <
		    len[i]) {
			tap_diag("war pair %u: y byte %zu of %zu is not what x held before the "
				 "fenced overwrite",
				 i, bad, len[i]);
			return -EILSEQ;
		}
		if ((bad = pat_check(xi, len[i], so[i], k->seed, true)) < len[i] ||
		    (bad = pat_check(xi + len[i], WAR_SLOT - len[i], i * WAR_SLOT + len[i], seed,
				     false)) < WAR_SLOT - len[i]) {
			tap_diag("war pair %u: x byte %zu is wrong after the fenced overwrite", i,
				 bad);
			return -EILSEQ;
		}
	}
	k->copies += 2 * WAR_PAIRS;
	return 0;
}

static __attribute__((noreturn)) void client_main(unsigned idx, uint32_t seed)
{
	struct client_rep *rep = &sh->c[idx];
	uint32_t restarts = 0;
	char name[32];
	struct copier k;
	uint8_t *x, *y;
	int r;

	snprintf(name, sizeof(name), "verifier%u", idx);
	r = copier_init(&k, sock, name, 4 << 20, 4 << 20, 256 << 10, seed);
	x = r == 0 ? dmac_region_alloc(k.client, WAR_PAIRS * WAR_SLOT) : NULL;
	y = x ? dmac_region_alloc(k.client, WAR_PAIRS * (WAR_SLOT + 2 * COPIER_GUARD)) : NULL;
	if (!y) {
		__atomic_store_n(&rep->err, r < 0 ? r : -ENOMEM, __ATOMIC_RELAXED);
		__atomic_store_n(&rep->done, 1, __ATOMIC_RELEASE);
		_exit(1);
	}
	dmac_chan_set_copybreak(k.ch, 0); /* every copy through the ring */
	dmac_set_event_cb(k.client, on_event, &restarts);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		uint64_t t0 = now_us(), dt;

		r = copier_round(&k, 16);
		if (r == 0)
			r = war_round(&k, x, y, seed + (uint32_t)rep->rounds * 7);
		if (r == 0 && dmac_dispatch(k.client) < 0)
			r = -ENODEV;
		if (r < 0) {
			__atomic_store_n(&rep->err, r, __ATOMIC_RELAXED);
			break;
		}
		dt = now_us() - t0;
		if (dt > rep->max_round_us)
			__atomic_store_n(&rep->max_round_us, dt, __ATOMIC_RELAXED);
		__atomic_store_n(&rep->copies, k.copies, __ATOMIC_RELAXED);
		__atomic_store_n(&rep->fenced, rep->fenced + WAR_PAIRS, __ATOMIC_RELAXED);
		__atomic_store_n(&rep->restarts, restarts, __ATOMIC_RELAXED);
		__atomic_store_n(&rep->rounds, rep->rounds + 1, __ATOMIC_RELEASE);
	}
	copier_fini(&k);
	__atomic_store_n(&rep->done, 1, __ATOMIC_RELEASE);
	_exit(r < 0 ? 1 : 0);
}

/* A client with a region and a channel that is killed while dmad is down. */
static __attribute__((noreturn)) void doomed_main(void)
{
	struct copier k;

	if (copier_init(&k, sock, "doomed", 1 << 20, 1 << 20, 64 << 10, 5) < 0)
		_exit(1);
	__atomic_store_n(&sh->doomed_ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

#ifdef FDSTORE_RX
#define RX_PORT 7302

/* A receiver: waits on its flow (nothing is sent) until told to stop, or
 * the flow ends. */
static __attribute__((noreturn)) void receiver_main(void)
{
	struct dmac_rx_spec spec = rxnet_spec(RX_PORT, 2048, 64);
	struct dmac_client *c;
	struct dmac_chan *ch;
	struct dmac_rx *rx;
	char buf[2048];
	int r;

	if (dmac_connect(sock, "receiver", &c) < 0 || dmac_rx_open(c, &spec, &rx) < 0)
		_exit(1);
	__atomic_store_n(&sh->rx_ready, 1, __ATOMIC_RELEASE);
	while ((r = dmac_rx_recv(rx, buf, sizeof(buf), NULL, 100)) == -ETIMEDOUT &&
	       !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
		dmac_dispatch(c);
	sh->rx_result = r;
	dmac_rx_close(rx);
	sh->rx_chan = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	if (sh->rx_chan == 0)
		dmac_chan_put(ch);
	__atomic_store_n(&sh->rx_done, 1, __ATOMIC_RELEASE);
	dmac_disconnect(c);
	_exit(0);
}
#endif

/* A session that copies until its dmad is gone: exits 0 on -ENODEV. */
static __attribute__((noreturn)) void holder_main(void)
{
	struct copier k;
	int r;

	if (copier_init(&k, sock, "holder", 1 << 20, 1 << 20, 64 << 10, 9) < 0)
		_exit(1);
	dmac_chan_set_copybreak(k.ch, 0);
	__atomic_store_n(&sh->holder_ready, 1, __ATOMIC_RELEASE);
	while ((r = copier_round(&k, 4)) == 0)
		;
	_exit(r == -ENODEV ? 0 : 1);
}

/*
 * The stored journal's names of the first ring and the first doorbell of
 * its state, swapped: each names an fd of the other kind. Layouts as in
 * daemon/handover_journal.h and handover_state.h.
 */
static bool swap_ring_doorbell(struct sds *st)
{
	enum { NAME = 48, RING = 4, DOORBELL = 5 };
	struct handover_live_hdr j;
	struct handover_live_slot slot;
	struct handover_hdr h;
	uint32_t kind;
	char a[NAME], b[NAME];
	int64_t ring = -1, bell = -1;
	uint64_t table;
	int fd = -1;

	for (unsigned i = 0; i < st->n; i++)
		if (strstr(st->names[i], "-state"))
			fd = st->fds[i];
	if (fd < 0 || pread(fd, &j, sizeof(j), 0) != sizeof(j) || j.sel > 1)
		return false;
	slot = j.slot[j.sel];
	if (pread(fd, &h, sizeof(h), (off_t)slot.off) != sizeof(h) || h.nfds != slot.nnames)
		return false;
	/* The fd table follows the records; the settings part follows it. */
	table = slot.off + h.hdr_size + (uint64_t)h.nclients * h.client_size +
		(uint64_t)h.nregions * h.region_size + (uint64_t)h.nchans * h.chan_size +
		(uint64_t)h.ndevices * h.device_size;
	for (uint32_t i = 0; i < h.nfds; i++) {
		off_t at = (off_t)(table + (uint64_t)h.fd_size * i);

		if (pread(fd, &kind, 4, at) != 4)
			return false;
		if (kind == RING && ring < 0)
			ring = i;
		if (kind == DOORBELL && bell < 0)
			bell = i;
	}
	if (ring < 0 || bell < 0)
		return false;
	ring = (int64_t)(slot.off + slot.len) + ring * NAME;
	bell = (int64_t)(slot.off + slot.len) + bell * NAME;
	return pread(fd, a, NAME, ring) == NAME && pread(fd, b, NAME, bell) == NAME &&
	       pwrite(fd, b, NAME, ring) == NAME && pwrite(fd, a, NAME, bell) == NAME;
}

/* Until every client finished a round after @since[i] rounds (true), or
 * one stopped, or STEP_MS. */
static bool all_progress(struct sds *st, unsigned n, const uint64_t *since)
{
	int64_t end = harness_now_ms() + STEP_MS;

	while (harness_now_ms() < end) {
		unsigned moved = 0;

		for (unsigned i = 0; i < n; i++) {
			if (__atomic_load_n(&sh->c[i].done, __ATOMIC_ACQUIRE))
				return false;
			moved += __atomic_load_n(&sh->c[i].rounds, __ATOMIC_ACQUIRE) > since[i];
		}
		if (moved == n)
			return true;
		sds_hear(st, 10);
	}
	return false;
}

static void start(struct sds *st, struct sdt_proc *p, const char *name)
{
	sds_start_dmad(st, p, name, sock, NULL);
}

/* Clients named @name in `dmactl status`, or -1 if it did not answer. */
static int named(struct sds *st, const char *name)
{
	struct jv *v;
	const struct jv *a, *c;
	int n = 0;

	sds_hear_for(st, 20);
	v = harness_status_json(sock);
	if (!v)
		return -1;
	a = jv_get(v, "clients");
	for (size_t i = 0; (c = jv_at(a, i)); i++)
		n += !strcmp(jv_str(jv_get(c, "name"), ""), name);
	jv_free(v);
	return n;
}

/* Journals in the store: one, once a dmad has written its own. */
static unsigned journals(const struct sds *st)
{
	unsigned n = 0;

	for (unsigned i = 0; i < st->n; i++) {
		size_t l = strlen(st->names[i]);

		n += l > 6 && !strcmp(st->names[i] + l - 6, "-state");
	}
	return n;
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
	unsigned crashes = knob("CRASH_COUNT", 5), nclients = knob("CRASH_CLIENTS", 2);
	uint32_t seed = knob("CRASH_SEED", (unsigned)time(NULL));
	uint64_t since[MAX_CLIENTS] = {0}, max_us = 0;
	struct sdt_proc *dmads;
	pid_t pids[MAX_CLIENTS], doomed;
	bool reaped = false, through = true;
	pid_t holder, receiver = -1;
	int64_t end;
	int status = 0;
	struct sds st;
	int r;

	harness_watchdog(240);
	unsetenv("DMAC_COPYBREAK");
	if (nclients > MAX_CLIENTS)
		nclients = MAX_CLIENTS;
	tap_diag("CRASH_SEED=%u CRASH_COUNT=%u CRASH_CLIENTS=%u", seed, crashes, nclients);
	dmads = calloc(crashes + 2, sizeof(*dmads));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!dmads || sh == MAP_FAILED)
		tap_bail("out of memory");
	sdt_path(sock, sizeof(sock), "dmad.sock");
	sds_open(&st);
#ifdef FDSTORE_RX
	/* Before dmad starts: it must run in the veth pair's namespace. */
	if (geteuid() == 0)
		rxnet_setup();
#endif

	start(&st, &dmads[0], "dmad-0");
	if (!ok(sds_ready(&st, STEP_MS), "dmad --fdstore under a manager: READY=1"))
		return tap_done();
	for (unsigned i = 0; i < nclients; i++) {
		pids[i] = harness_fork();
		if (pids[i] == 0) {
			close(st.nfd);
			client_main(i, seed * 31 + i + 1);
		}
	}
	doomed = harness_fork();
	if (doomed == 0) {
		close(st.nfd);
		doomed_main();
	}
	if (!ok(all_progress(&st, nclients, since), "%u verifying clients copy", nclients))
		return tap_done();
	while (!__atomic_load_n(&sh->doomed_ready, __ATOMIC_ACQUIRE))
		sds_hear_for(&st, 10);
#ifdef FDSTORE_RX
	if (geteuid() == 0) {
		receiver = harness_fork();
		if (receiver == 0) {
			close(st.nfd);
			receiver_main();
		}
		while (!__atomic_load_n(&sh->rx_ready, __ATOMIC_ACQUIRE) &&
		       waitpid(receiver, NULL, WNOHANG) == 0)
			sds_hear_for(&st, 10);
		ok(__atomic_load_n(&sh->rx_ready, __ATOMIC_ACQUIRE), "a receiver opened a flow");
	}
#endif

	for (unsigned n = 1; n <= crashes; n++) {
		char name[16];

		/* Anywhere in a round, a pair, a wait. */
		sds_hear_for(&st, (int)(rnd(&seed) % 300));
		r = sds_stop(&st, &dmads[n - 1], SIGKILL, STEP_MS);
		ok(r == -SIGKILL && journals(&st) >= 1,
		   "crash %u: SIGKILL (%d); the store holds a journal and %u fds", n, r, st.n);
		if (n == (crashes + 1) / 2) {
			kill(doomed, SIGKILL);
			reaped = waitpid(doomed, NULL, 0) == doomed;
		}
		for (unsigned i = 0; i < nclients; i++)
			since[i] = __atomic_load_n(&sh->c[i].rounds, __ATOMIC_ACQUIRE);
		snprintf(name, sizeof(name), "dmad-%u", n);
		start(&st, &dmads[n], name);
		if (!ok(sds_ready(&st, STEP_MS),
			"crash %u: the next dmad, given the store, is ready", n)) {
			sdt_dump_log(&dmads[n - 1]);
			sdt_dump_log(&dmads[n]);
			break;
		}
		ok(sdt_log_has(&dmads[n], "dmad ended without handing over"),
		   "crash %u: it took the sessions from the journal", n);
		through &= ok(all_progress(&st, nclients, since),
			      "crash %u: every client verified a round after it", n);
		ok(journals(&st) == 1, "crash %u: the store holds one journal, the new dmad's (%u)",
		   n, journals(&st));
		if (!through)
			break;
	}

	{
		int64_t end = harness_now_ms() + STEP_MS;
		int d, v = -1;

		while ((d = named(&st, "doomed")) != 0 && harness_now_ms() < end)
			sds_hear_for(&st, 100);
		v = named(&st, "verifier0");
		ok(reaped && d == 0 && v == 1,
		   "a client killed while dmad was down is reaped; the others stay (%d, %d)", d, v);
	}

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	if (receiver > 0) {
		int64_t until = harness_now_ms() + STEP_MS;

		while (!__atomic_load_n(&sh->rx_done, __ATOMIC_ACQUIRE) && harness_now_ms() < until)
			sds_hear_for(&st, 10);
		ok(__atomic_load_n(&sh->rx_done, __ATOMIC_ACQUIRE) && sh->rx_result == -ETIMEDOUT &&
			   sh->rx_chan == 0,
		   "the receiver's flow lived through every crash (%d), its session takes a "
		   "channel (%d)",
		   sh->rx_result, sh->rx_chan);
		while (waitpid(receiver, NULL, WNOHANG) == 0 && harness_now_ms() < until)
			sds_hear_for(&st, 10);
	}
	for (unsigned i = 0; i < nclients; i++) {
		struct client_rep *c = &sh->c[i];
		int64_t end = harness_now_ms() + STEP_MS;

		while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE) && harness_now_ms() < end)
			sds_hear_for(&st, 10);
		harness_wait_child(pids[i], STEP_MS, "verifying client");
		ok(c->err == 0 && c->copies > 0,
		   "client %u: no error, bad byte, moved guard or incomplete cookie (%s; %llu "
		   "copies, %llu fenced, %llu rounds)",
		   i, strerror(-c->err), (unsigned long long)c->copies,
		   (unsigned long long)c->fenced, (unsigned long long)c->rounds);
		ok(c->restarts == crashes, "client %u: one RESTARTED event per crash (%u)", i,
		   c->restarts);
		if (c->max_round_us > max_us)
			max_us = c->max_round_us;
	}
	tap_diag("longest client stall (a round with a crash in it): %llu ms over %u crashes",
		 (unsigned long long)max_us / 1000, crashes);
	end = harness_now_ms() + STEP_MS;

	holder = harness_fork();
	if (holder == 0) {
		close(st.nfd);
		holder_main();
	}
	while (!__atomic_load_n(&sh->holder_ready, __ATOMIC_ACQUIRE))
		sds_hear_for(&st, 10);
	r = sds_stop(&st, &dmads[crashes], SIGKILL, STEP_MS);
	ok(r == -SIGKILL && swap_ring_doorbell(&st),
	   "a last SIGKILL; in the journal, a ring's name and its doorbell's swapped");
	start(&st, &dmads[crashes + 1], "dmad-hostile");
	ok(sds_ready(&st, STEP_MS), "the next dmad, given fds of the wrong kind, starts anyway");
	ok(sdt_log_has(&dmads[crashes + 1], "refusing the handover state"),
	   "and says it refused the journal's state");
	while (waitpid(holder, &status, WNOHANG) == 0 && harness_now_ms() < end)
		sds_hear_for(&st, 10);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "its client sees the daemon gone (-ENODEV), nothing else");
	ok(journals(&st) == 1 && st.n == 2,
	   "the store holds the new dmad's socket and journal only (%u)", st.n);
	r = sds_stop(&st, &dmads[crashes + 1], SIGTERM, STEP_MS);
	ok(r == 0, "which hands over on SIGTERM as before (%d)", r);
	sds_clear(&st);
	return tap_done();
}
