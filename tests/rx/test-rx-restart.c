/* SPDX-License-Identifier: MIT */
/*
 * dmactl restart ten times in a row while a verifying copy client copies
 * and a flow receives from an independent sender (a separate process in
 * the peer namespace sending numbered datagrams over the veth pair). The
 * copy client must see no error and every byte right; the rx client no
 * error, every datagram it gets byte-exact and in order (datagram numbers
 * and flow sequence numbers only rising), and what it got plus what dmad
 * and the kernel counted as dropped equal to what was sent. dmactl status
 * totals (daemon-wide, and the copy client's own) never go down across a
 * restart, a client's weight and a uid's rate set with dmactl set are
 * still set after the last, and so is the record of a client that went
 * before the first. The longest stall each client saw is reported.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"
#include "rxnet.h"

#define PORT	    7011
#define RESTARTS    10
#define STEP_MS	    60000
#define IDLE_MS	    3000
#define PACE_US	    8000 /* after every 16 datagrams: ~2000 a second */
#define N_DGRAMS    24000
#define ASAN_DGRAMS 8000

static const uint32_t sizes[] = {4, 64, 200, 512, 1000, RXNET_MTU_PAYLOAD};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct rx_report {
	int32_t err;
	uint32_t restarts;
	uint32_t got, bad_payload, bad_order;
	uint64_t flow_drops;
	int64_t longest_gap_ms;
};

struct copy_report {
	int32_t err;
	uint32_t restarts;
	uint64_t rounds;
	int64_t longest_round_ms;
};

static void on_event(const struct dmac_event *ev, void *arg)
{
	uint32_t *restarts = arg;

	if (ev->type == DMAC_EVENT_RESTARTED)
		(*restarts)++;
}

static bool stopped(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) != 0;
}

static void copy_main(const char *socket, int progress, int result, int stop)
{
	struct copy_report rep = {0};
	uint32_t seen = 0;
	struct copier k;
	int r = copier_init(&k, socket, "rxr-copier", 4 << 20, 4 << 20, 256 << 10, 77);

	if (r < 0)
		_exit(2);
	dmac_chan_set_copybreak(k.ch, 0);
	dmac_set_event_cb(k.client, on_event, &rep.restarts);
	r = copier_round(&k, 8);
	if (r == 0 && write(progress, "r", 1) != 1)
		r = -EPIPE;
	while (r == 0 && !stopped(stop)) {
		int64_t t0 = harness_now_ms(), took;

		r = copier_round(&k, 8);
		took = harness_now_ms() - t0;
		rep.rounds += r == 0;
		rep.longest_round_ms = took > rep.longest_round_ms ? took : rep.longest_round_ms;
		if (r == 0 && dmac_dispatch(k.client) < 0)
			r = -ENODEV;
		for (; r == 0 && seen < rep.restarts; seen++)
			if (write(progress, "k", 1) != 1)
				r = -EPIPE;
	}
	rep.err = r;
	copier_fini(&k);
	_exit(write(result, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 3);
}

/* Check one datagram; the payload's first 4 bytes say which it is. */
static void check(struct rx_report *rep, const struct dmac_rx_pkt *p, uint32_t *next_k,
		  uint32_t *last_seq)
{
	uint32_t k = UINT32_MAX;

	if (p->len >= 4)
		memcpy(&k, p->data, 4);
	if (k == UINT32_MAX || k < *next_k || p->seq <= *last_seq) {
		rep->bad_order++;
		return;
	}
	if (p->len != sizes[k % NSIZES] || !rxnet_payload_ok(p->data, k, p->len))
		rep->bad_payload++;
	*next_k = k + 1;
	*last_seq = p->seq;
	rep->got++;
}

static void rx_main(const char *socket, int progress, int result, int stop)
{
	struct rx_report rep = {0};
	struct dmac_rx_pkt pkts[64];
	struct dmac_rx_spec spec = rxnet_spec(PORT, 2048, 4096);
	struct dmac_rx_stats st;
	struct dmac_client *c;
	struct dmac_rx *rx;
	uint32_t next_k = 0, last_seq = 0;
	int64_t last = 0;
	int r = dmac_connect(socket, "rxr-receiver", &c);

	if (r == 0)
		r = dmac_rx_open(c, &spec, &rx);
	if (r < 0)
		_exit(2);
	dmac_set_event_cb(c, on_event, &rep.restarts);
	if (write(progress, "r", 1) != 1)
		_exit(3);
	/* Until the sender is done (a byte on @stop) and nothing came for IDLE_MS. */
	for (int64_t done_at = 0;;) {
		struct pollfd p = {.fd = dmac_rx_fd(rx), .events = POLLIN};
		int n;

		if (!done_at && stopped(stop))
			done_at = harness_now_ms();
		if (done_at && harness_now_ms() - (last > done_at ? last : done_at) >= IDLE_MS)
			break;
		n = dmac_rx_peek(rx, pkts, 64);

		if (n < 0) {
			r = n;
			break;
		}
		if (n == 0) {
			poll(&p, 1, 100);
			if (dmac_dispatch(c) < 0) {
				r = -ENODEV;
				break;
			}
			continue;
		}
		if (last && harness_now_ms() - last > rep.longest_gap_ms)
			rep.longest_gap_ms = harness_now_ms() - last;
		last = harness_now_ms();
		for (int i = 0; i < n; i++)
			check(&rep, &pkts[i], &next_k, &last_seq);
		dmac_rx_release(rx, (unsigned)n);
	}
	dmac_dispatch(c);
	dmac_rx_stats(rx, &st);
	rep.flow_drops = st.drop_no_slot + st.drop_too_large + st.drop_dma_error;
	rep.err = r;
	if (write(result, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	/* The flow stays open for the test to read its kernel drops: until @stop closes. */
	while (read(stop, &(char){0}, 1) > 0)
		;
	dmac_rx_close(rx);
	dmac_disconnect(c);
	_exit(0);
}

struct proc {
	pid_t pid;
	int progress, result, stop;
};

static struct proc start(void (*fn)(const char *, int, int, int), const char *socket)
{
	int prog[2], res[2], stop[2];
	struct proc p;

	if (pipe(prog) < 0 || pipe(res) < 0 || pipe(stop) < 0)
		tap_bail("pipe: %s", strerror(errno));
	p.pid = harness_fork();
	if (p.pid == 0) {
		close(prog[0]), close(res[0]), close(stop[1]);
		fn(socket, prog[1], res[1], stop[0]);
	}
	close(prog[1]), close(res[1]), close(stop[0]);
	p.progress = prog[0];
	p.result = res[0];
	p.stop = stop[1];
	return p;
}

static bool byte_from(int fd, char want)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b = 0;

	return poll(&p, 1, STEP_MS) == 1 && read(fd, &b, 1) == 1 && b == want;
}

static bool read_all(int fd, void *buf, size_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, STEP_MS) == 1 && read(fd, buf, len) == (ssize_t)len;
}

/* Daemon-wide ops and bytes, and the copy client's ops; -1 when unreadable. */
static void totals(const char *socket, double *ops, double *bytes, double *client_ops,
		   double *client_id)
{
	struct jv *st = harness_status_json(socket);
	const struct jv *cl = st ? jv_get(st, "clients") : NULL;

	*ops = st ? jv_num(jv_get(jv_get(st, "totals"), "ops"), -1) : -1;
	*bytes = st ? jv_num(jv_get(jv_get(st, "totals"), "bytes"), -1) : -1;
	*client_ops = *client_id = -1;
	for (size_t i = 0; cl && jv_at(cl, i); i++) {
		const struct jv *c = jv_at(cl, i);

		if (!strcmp(jv_str(jv_get(c, "name"), ""), "rxr-copier")) {
			*client_ops = jv_num(jv_get(c, "ops"), -1);
			*client_id = jv_num(jv_get(c, "id"), -1);
		}
	}
	jv_free(st);
}

static int dmactl(const char *socket, char *out, size_t size, const char *a, const char *b,
		  const char *c, const char *e)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			(char *)socket,
			(char *)a,
			(char *)b,
			(char *)c,
			(char *)e,
			NULL};

	return harness_run(argv, out, size, STEP_MS);
}

/* Field @field of the element of array @arr whose @key is @match, or -1. */
static double json_at(const char *out, const char *arr, const char *key, double match,
		      const char *field)
{
	struct jv *root = jv_parse(out);
	const struct jv *a = root ? jv_get(root, arr) : NULL;
	double v = -1;

	for (size_t i = 0; a && jv_at(a, i); i++)
		if (jv_num(jv_get(jv_at(a, i), key), -2) == match)
			v = jv_num(jv_get(jv_at(a, i), field), -1);
	jv_free(root);
	return v;
}

/* A client that copies once and goes. */
static void gone_client(const char *socket)
{
	struct copier k;

	if (copier_init(&k, socket, "rxr-gone", 1 << 20, 1 << 20, 64 << 10, 5) == 0) {
		copier_round(&k, 16);
		copier_fini(&k);
	}
}

/* The ops of gone client "rxr-gone" in dmactl's status, -1 if none. */
static double gone_ops(const char *socket)
{
	struct jv *st = harness_status_json(socket);
	const struct jv *g = st ? jv_get(st, "gone_clients") : NULL;
	double ops = -1;

	for (size_t i = 0; g && jv_at(g, i); i++)
		if (!strcmp(jv_str(jv_get(jv_at(g, i), "name"), ""), "rxr-gone"))
			ops = jv_num(jv_get(jv_at(g, i), "ops"), -1);
	jv_free(st);
	return ops;
}

int main(void)
{
#ifdef __SANITIZE_ADDRESS__
	const uint32_t n = ASAN_DGRAMS;
#else
	const uint32_t n = N_DGRAMS;
#endif
	double ops0, bytes0, cops0, cid, ops1, bytes1, cops1, id1;
	struct copy_report crep = {0};
	struct rx_report rrep = {0};
	struct harness_dmad *d;
	struct proc cp, rp;
	bool monotonic = true;
	char out[16384], idbuf[16];
	unsigned done = 0;
	double gone0 = -1;
	pid_t sender;
	double kdrops;

	harness_watchdog(300);
	rxnet_setup();
	d = harness_dmad_start("--copybreak", "0", NULL);
	cp = start(copy_main, d->socket);
	rp = start(rx_main, d->socket);
	tap_ok(byte_from(cp.progress, 'r') && byte_from(rp.progress, 'r'),
	       "a verifying copy client copies and a flow on %s port %d is open", RXNET_IF, PORT);
	totals(d->socket, &ops0, &bytes0, &cops0, &cid);
	snprintf(idbuf, sizeof(idbuf), "%.0f", cid);
	tap_ok(cid > 0 && dmactl(d->socket, out, sizeof(out), "set", idbuf, "weight", "7") == 0 &&
		       dmactl(d->socket, out, sizeof(out), "set", "uid=4242", "rate", "64M") == 0,
	       "dmactl set: client %s weight 7, uid 4242 rate 64M", idbuf);
	gone_client(d->socket);
	/* Its record comes once dmad has reaped it: a tick or so. */
	for (int i = 0; i < 100 && (gone0 = gone_ops(d->socket)) <= 0; i++)
		usleep(50000);
	tap_ok(gone0 > 0, "a client copied and went: its record, with %.0f ops", gone0);

	sender = rxnet_send(PORT, n, sizes, NSIZES, PACE_US);
	for (; done < RESTARTS; done++) {
		int rc = dmactl(d->socket, out, sizeof(out), "restart", NULL, NULL, NULL);

		if (rc != 0 || !byte_from(cp.progress, 'k')) {
			tap_diag("restart %u: dmactl exited %d, or the copy client did not come "
				 "through: %s",
				 done + 1, rc, out);
			break;
		}
		totals(d->socket, &ops1, &bytes1, &cops1, &id1);
		if (ops1 < ops0 || bytes1 < bytes0 || cops1 < cops0 || ops0 < 0 || cops0 < 0) {
			tap_diag(
				"restart %u: totals went from %.0f ops %.0f bytes (client %.0f) to "
				"%.0f ops %.0f bytes (client %.0f)",
				done + 1, ops0, bytes0, cops0, ops1, bytes1, cops1);
			monotonic = false;
		}
		ops0 = ops1, bytes0 = bytes1, cops0 = cops1;
	}
	tap_ok(done == RESTARTS,
	       "%u restarts in a row, each answered, the copy client through each", done);
	tap_ok(monotonic, "dmactl status totals (daemon-wide ops and bytes, the copy client's ops) "
			  "never went down across a restart");
	tap_ok(dmactl(d->socket, out, sizeof(out), "--json", "status", NULL, NULL) == 0 &&
		       json_at(out, "shares", "client", cid, "weight") == 7 &&
		       json_at(out, "user_shares", "uid", 4242, "rate") == 64 << 20,
	       "after the restarts the client's weight is 7 and uid 4242's rate 64M");
	tap_ok(gone_ops(d->socket) == gone0, "and the gone client's record is still there");

	tap_ok(harness_wait_child(sender, STEP_MS * 2, "sender"),
	       "the sender sent all %u datagrams", n);
	if (write(rp.stop, "d", 1) != 1)
		tap_bail("cannot tell the rx client the sender is done");
	tap_ok(read_all(rp.result, &rrep, sizeof(rrep)), "the rx client reported");
	tap_ok(rrep.err == 0, "the rx client saw no error (%s)", strerror(-rrep.err));
	tap_ok(rrep.restarts == done, "the rx client saw %u RESTARTED events", rrep.restarts);
	tap_ok(!rrep.bad_payload && !rrep.bad_order,
	       "every datagram delivered byte-exact and in order (%u bad, %u out of order)",
	       rrep.bad_payload, rrep.bad_order);
	kdrops = -1;
	if (dmactl(d->socket, out, sizeof(out), "--json", "flows", NULL, NULL) == 0) {
		struct jv *root = jv_parse(out);
		const struct jv *f = root ? jv_at(jv_get(root, "flows"), 0) : NULL;

		kdrops = f ? jv_num(jv_get(jv_get(f, "drops"), "kernel"), -1) : -1;
		jv_free(root);
	}
	tap_ok(kdrops >= 0 && rrep.got + rrep.flow_drops + (uint64_t)kdrops == n,
	       "delivered %u + dropped by dmad %llu + by the kernel %.0f == sent %u", rrep.got,
	       (unsigned long long)rrep.flow_drops, kdrops, n);
	close(rp.stop);
	close(cp.stop);
	if (!read_all(cp.result, &crep, sizeof(crep)))
		crep.err = -EPIPE;
	tap_ok(crep.err == 0 && crep.rounds > 0,
	       "the copy client: %llu rounds of 8 copies verified, no error (%s)",
	       (unsigned long long)crep.rounds, strerror(-crep.err));
	tap_ok(crep.restarts == done, "the copy client saw %u RESTARTED events", crep.restarts);
	tap_diag("longest stall: copy client %lld ms (one round), rx client %lld ms (between "
		 "datagrams)",
		 (long long)crep.longest_round_ms, (long long)rrep.longest_gap_ms);
	harness_wait_child(rp.pid, STEP_MS, "rx client");
	harness_wait_child(cp.pid, STEP_MS, "copy client");
	harness_dmad_finish(d);
	return tap_done();
}
