/* SPDX-License-Identifier: MIT */
/*
 * `systemctl restart dmad` without ending a session, with this test as the
 * service manager: it holds $NOTIFY_SOCKET and keeps the fd store. A
 * verifying client copies throughout (every byte, guard and cookie
 * checked). SIGTERM: dmad (started with --fdstore) hands the state memfd
 * and every fd of its table to the store, each under its name, and exits
 * 0; the next dmad gets them in LISTEN_FDS / LISTEN_FDNAMES (from fd 3, as
 * systemd passes them), takes the sessions back, tells the store to forget
 * every name (and stores its own fds as it keeps them, for a crash:
 * test-fdstore-crash), and the client sees one RESTARTED event and no
 * error. Twice.
 * A second client has one memfd registered as two regions: the store
 * keeps one of several fds of the same file, and the table must not lose
 * the other.
 * Where dmad has receive offload and the test runs as root, a third client
 * has a receive flow on a veth pair: after each restart a paced stream
 * reaches it whole, every byte and sequence number checked, the sequence
 * going on from before (its AF_XDP socket, UMEM, bpf_link, maps, area and
 * eventfd went through the store too).
 * Then a store whose state is truncated: the next dmad refuses it with a
 * log line, starts clean and serves a new client.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "sdstore.h"
#include "sdtest.h"
#ifdef FDSTORE_RX
#include "rxnet.h"
#endif

#define ROUNDS	   2
#define STEP_MS	   30000
#define STATE_NAME "dmad-state"
/* The control socket; the copier's socket, two regions, a ring and its
 * doorbell; the sharer's socket and two regions. */
#define STORED_FDS 9
/* The receiver's socket; its flow's area, eventfd, AF_XDP socket, UMEM,
 * bpf_link and three maps. */
#define RX_STORED_FDS 9
#define RX_PORT	      7301
#define RX_N	      300

struct report {
	int32_t err;
	uint32_t restarts;
	uint64_t copies;
};

static struct sdt_proc dmads[4];
static char sock[128];

static void on_event(const struct dmac_event *ev, void *arg)
{
	if (ev->type == DMAC_EVENT_RESTARTED)
		++*(uint32_t *)arg;
}

/* Copies in rounds until @stop closes; a byte on @progress per restart
 * seen, once a whole round after it has been verified too. */
static void client_main(int progress, int result, int stop)
{
	struct report rep = {0};
	uint32_t seen = 0, pending = 0;
	struct copier k;
	int r = copier_init(&k, sock, "verifier", 4 << 20, 4 << 20, 256 << 10, 77);

	if (r < 0)
		_exit(2);
	dmac_chan_set_copybreak(k.ch, 0); /* every copy through the ring */
	dmac_set_event_cb(k.client, on_event, &rep.restarts);
	r = copier_round(&k, 8);
	if (r == 0 && write(progress, "r", 1) != 1)
		r = -EPIPE;
	while (r == 0) {
		struct pollfd p = {.fd = stop, .events = POLLIN};

		if (poll(&p, 1, 0) != 0)
			break;
		r = copier_round(&k, 8);
		for (; r == 0 && seen < pending; seen++)
			if (write(progress, "k", 1) != 1)
				r = -EPIPE;
		if (r == 0 && dmac_dispatch(k.client) < 0)
			r = -ENODEV;
		pending = rep.restarts;
	}
	rep.err = r;
	rep.copies = k.copies;
	copier_fini(&k);
	if (write(result, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	_exit(0);
}

/* Two regions of one memfd; stays until @stop closes, with a byte on
 * @progress per RESTARTED event. Exits 0, or 1 on an error. */
static void sharer_main(int progress, int stop)
{
	struct dmac_client *c;
	uint32_t restarts = 0, seen = 0;
	int fd = memfd_create("shared", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *a, *b;

	if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0 ||
	    dmac_connect(sock, "sharer", &c) < 0)
		_exit(1);
	a = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED || dmac_region_register(c, fd, a, 1 << 20) < 0 ||
	    dmac_region_register(c, fd, b, 1 << 20) < 0)
		_exit(1);
	close(fd);
	dmac_set_event_cb(c, on_event, &restarts);
	if (write(progress, "r", 1) != 1)
		_exit(1);
	for (;;) {
		struct pollfd p = {.fd = stop, .events = POLLIN};

		if (poll(&p, 1, 20) != 0)
			break;
		if (dmac_dispatch(c) < 0)
			_exit(1);
		for (; seen < restarts; seen++)
			if (write(progress, "k", 1) != 1)
				_exit(1);
	}
	dmac_disconnect(c);
	_exit(0);
}

static bool step(int fd, char want)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b = 0;

	return poll(&p, 1, STEP_MS) == 1 && read(fd, &b, 1) == 1 && b == want;
}

/* A dmad the manager starts: the store's fds in LISTEN_FDS, from 3 on. */
static void start(struct sdt_proc *p, const char *name, struct sds *st)
{
	sds_start_dmad(st, p, name, sock, NULL);
}

/* A copy of the stored state cut to half its length, in place of it. */
static bool truncate_state(struct sds *st)
{
	for (unsigned i = 0; i < st->n; i++) {
		struct stat s;
		char *buf;
		int fd;

		if (strcmp(st->names[i], STATE_NAME) || fstat(st->fds[i], &s) < 0)
			continue;
		buf = malloc((size_t)s.st_size);
		fd = memfd_create("dmad-handover", MFD_CLOEXEC);
		if (!buf || fd < 0 || pread(st->fds[i], buf, (size_t)s.st_size, 0) != s.st_size ||
		    write(fd, buf, (size_t)s.st_size / 2) != s.st_size / 2) {
			free(buf);
			return false;
		}
		free(buf);
		close(st->fds[i]);
		st->fds[i] = fd;
		return true;
	}
	return false;
}

#ifdef FDSTORE_RX
static const uint32_t rx_sizes[] = {4, 100, 1000, RXNET_MTU_PAYLOAD};
static struct dmac_client *rx_client;
static struct dmac_rx *rx;

/* As root: a receiver with a flow, and a first stream to it. */
static bool rx_open(void)
{
	struct dmac_rx_spec spec = rxnet_spec(RX_PORT, 2048, 1024);

	if (geteuid() != 0)
		return false;
	return ok(dmac_connect(sock, "receiver", &rx_client) == 0 &&
			  dmac_rx_open(rx_client, &spec, &rx) == 0,
		  "a third client receives on %s port %d", RXNET_IF, RX_PORT);
}

/* Stream @round (from 0): RX_N datagrams, each checked, sequence numbers going on. */
static void rx_stream(unsigned round)
{
	pid_t pid = rxnet_send(RX_PORT, RX_N, rx_sizes, 4, 500);
	struct rxnet_seen s = rxnet_receive(rx, 0, RX_N, 1 + round * RX_N, rx_sizes, 4, 5000);

	harness_wait_child(pid, STEP_MS, "sender");
	ok(s.packets == RX_N && !s.bad_seq && !s.bad_len && !s.bad_payload,
	   "stream %u: %u of %d datagrams, every byte and sequence number right (%u/%u/%u bad)",
	   round, s.packets, RX_N, s.bad_seq, s.bad_len, s.bad_payload);
}
#endif

int main(void)
{
	struct sds st;
	struct report rep = {.err = -EPIPE};
	int prog[2], res[2], stop[2], sprog[2], sstop[2];
	bool through = true;
	struct copier fresh;
	char line[128];
	pid_t client, sharer;
	unsigned nclients = 2, nstored, live_fds;
	int r;

	harness_watchdog(240);
	unsetenv("DMAC_COPYBREAK");
	sdt_path(sock, sizeof(sock), "dmad.sock");
	sds_open(&st);
#ifdef FDSTORE_RX
	/* Before dmad starts: it must run in the veth pair's namespace. */
	if (geteuid() == 0)
		rxnet_setup();
#endif

	start(&dmads[0], "dmad-0", &st);
	if (!ok(sds_ready(&st, STEP_MS), "dmad --fdstore under a manager: READY=1"))
		return tap_done();
	if (pipe(prog) < 0 || pipe(res) < 0 || pipe(stop) < 0)
		tap_bail("pipe: %s", strerror(errno));
	client = harness_fork();
	if (client == 0) {
		close(prog[0]), close(res[0]), close(stop[1]), close(st.nfd);
		client_main(prog[1], res[1], stop[0]);
	}
	close(prog[1]), close(res[1]), close(stop[0]);
	if (!ok(step(prog[0], 'r'), "a verifying client copies"))
		return tap_done();
	if (pipe(sprog) < 0 || pipe(sstop) < 0)
		tap_bail("pipe: %s", strerror(errno));
	sharer = harness_fork();
	if (sharer == 0) {
		close(prog[0]), close(res[0]), close(stop[1]), close(st.nfd);
		close(sprog[0]), close(sstop[1]);
		sharer_main(sprog[1], sstop[0]);
	}
	close(sprog[1]), close(sstop[0]);
	if (!ok(step(sprog[0], 'r'), "a second client has one memfd registered as two regions"))
		return tap_done();
#ifdef FDSTORE_RX
	/* What the clients' sessions stored so far: dmad waits for a manager
	 * that does not read (10 datagrams queue), and this one is about to
	 * wait for dmad. */
	while (sds_hear(&st, 0))
		;
	nclients += rx_open();
	if (nclients == 3)
		rx_stream(0);
#endif
	nstored = STORED_FDS + (nclients == 3 ? RX_STORED_FDS : 0);
	/* The journal, and what was stored for every session, the receiver's
	 * flow included (it lives through a crash too). */
	live_fds = 1 + nstored;

	for (unsigned n = 1; n <= ROUNDS; n++) {
		r = sds_stop(&st, &dmads[n - 1], SIGTERM, STEP_MS);
		ok(r == 0, "restart %u: SIGTERM, and dmad exits 0 (%d)", n, r);
		snprintf(line, sizeof(line), "dmad-fd-%u", nstored - 1);
		ok(sds_has(&st, STATE_NAME) && sds_has(&st, line) && st.n == nstored + 1,
		   "restart %u: the store holds dmad-state and dmad-fd-0..%u, and no fd stored as "
		   "created (%u fds)",
		   n, nstored - 1, st.n);
		start(&dmads[n], n == 1 ? "dmad-1" : "dmad-2", &st);
		ok(sds_ready(&st, STEP_MS), "restart %u: the next dmad, given them, is ready", n);
		ok(!sds_count(&st, "dmad-fd-") && !sds_has(&st, STATE_NAME) &&
			   st.forgotten == nstored + 1,
		   "restart %u: and told the store to forget all of them (%u forgotten)", n,
		   st.forgotten);
		/* Kept for a crash (handover_live.h): the control socket, the
		 * clients' sockets, the regions, the ring and its doorbell, the
		 * receive flow's fds, and the journal naming them. */
		ok(sds_count(&st, "dmad-live-") == live_fds && st.n == live_fds,
		   "restart %u: and stored its own %u fds and journal instead (%u, %u in all)", n,
		   live_fds - 1, sds_count(&st, "dmad-live-"), st.n);
		through &= ok(step(prog[0], 'k') && step(sprog[0], 'k'),
			      "restart %u: both clients saw RESTARTED", n);
		snprintf(line, sizeof(line), "restart %u: %u of %u client(s) restored", n, nclients,
			 nclients);
		ok(sdt_log_has(&dmads[n], line), "restart %u: every session restored", n);
#ifdef FDSTORE_RX
		if (nclients == 3)
			rx_stream(n);
#endif
	}
	close(stop[1]);
	if (read(res[0], &rep, sizeof(rep)) != sizeof(rep))
		rep.err = -EPIPE;
	harness_wait_child(client, STEP_MS, "verifying client");
	ok(rep.err == 0 && rep.copies > 0,
	   "the client saw no error, bad byte or incomplete cookie (%s, %llu copies)",
	   strerror(-rep.err), (unsigned long long)rep.copies);
	ok(through && rep.restarts == ROUNDS, "one RESTARTED event per restart (%u)", rep.restarts);
	close(sstop[1]);
	ok(harness_wait_child(sharer, STEP_MS, "sharing client"),
	   "the client with a shared memfd saw no error");

	r = sds_stop(&st, &dmads[ROUNDS], SIGTERM, STEP_MS);
	ok(r == 0 && sds_has(&st, STATE_NAME) && truncate_state(&st),
	   "a third SIGTERM (exit %d); the stored state cut short", r);
	start(&dmads[3], "dmad-damaged", &st);
	ok(sds_ready(&st, STEP_MS), "the next dmad, given a damaged state, starts anyway");
	ok(sdt_log_has(&dmads[3], "refusing the handover state"), "and says it refused the state");
	ok(!sds_count(&st, "dmad-fd-") && !sds_has(&st, STATE_NAME),
	   "the damaged state is forgotten too (%u left)", st.n - sds_count(&st, "dmad-live-"));
	r = copier_init(&fresh, sock, "fresh", 1 << 20, 1 << 20, 64 << 10, 9);
	ok(r == 0 && copier_round(&fresh, 16) == 0, "it serves a new client (%d)", r);
	if (r == 0)
		copier_fini(&fresh);
	r = sds_stop(&st, &dmads[3], SIGTERM, STEP_MS);
	ok(r == 0, "and hands over on SIGTERM again (%d)", r);
	for (unsigned i = 0; i < st.n; i++)
		close(st.fds[i]);
	return tap_done();
}
