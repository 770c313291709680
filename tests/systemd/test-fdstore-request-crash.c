/* SPDX-License-Identifier: MIT */
/*
 * dmad killed in the middle of a control request, under a service manager
 * with an fd store (this test, sdstore.h): every call made across the
 * crash returns what it would have, once, with nothing leaked or doubled.
 *
 * For each request kind (HELLO, region register and unregister, channel
 * get and put) and each moment: the request waits in the socket while no
 * dmad runs (queued), or dmad dies once it read it (read), did it but did
 * not journal it (applied), journaled it but did not answer (journaled),
 * or answered (replied): DMAD_FAULT_CRASH with --fault-injection. The
 * next dmad takes the store. The client's call must return success; then
 * `dmactl status` must show the regions and channels the client believes
 * it has, no more; the store must hold exactly their fds, the socket's
 * and one journal; and a copy on every channel it holds, into every
 * region it registered, must verify byte for byte. Where there is receive
 * offload and root, an rx flow opened across the crash (the dead dmad's,
 * answered again from its record, or the next dmad's) receives a stream
 * afterwards, every datagram and byte checked, and the store holds its fds;
 * one closed across the crash leaves none of them there.
 *
 * A `dmactl set` answered just before the crash is in the next dmad. Last,
 * a journal of version 1 (before the answers were kept) is refused
 * whole: the next dmad starts clean and its client sees dmad gone.
 *
 * Without the library sending the request again on RESTARTED, a call
 * read or applied before the crash waits forever (here: fails after
 * STEP_MS); without dmad answering a request sent again from what it
 * kept, one journaled before the crash is done twice (a region or a
 * channel more than the client knows of).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "dmad_proto.h"
#include "harness.h"
#include "jsonread.h"
#include "sdstore.h"
#ifdef FDSTORE_RX
#include "rxnet.h"
#define RX_PORT 7303
#define RX_N	64 /* datagrams sent to the flow once the next dmad is up */
#endif

#define STEP_MS	 20000
#define BUF_LEN	 (256u << 10)
#define COPY_LEN (48u << 10)

enum kind {
	K_HELLO,
	K_REG,
	K_UNREG,
	K_GET,
	K_PUT,
#ifdef FDSTORE_RX
	K_RX,
	K_RX_CLOSE,
#endif
	K_COUNT
};
enum point { P_QUEUED, P_READ, P_APPLIED, P_JOURNALED, P_REPLIED, P_COUNT };

/* Each call, and how many of its type the client's setup makes first. */
static const struct {
	const char *name;
	uint16_t type;
	unsigned before;
} kinds[K_COUNT] = {
	{"hello", DMAD_PROTO_HELLO, 0},
	{"region-register", DMAD_PROTO_REGION_REG, 2},
	{"region-unregister", DMAD_PROTO_REGION_UNREG, 0},
	{"channel-get", DMAD_PROTO_CHAN_GET, 1},
	{"channel-put", DMAD_PROTO_CHAN_PUT, 0},
#ifdef FDSTORE_RX
	{"rx-open", DMAD_PROTO_RX_OPEN, 0},
	{"rx-close", DMAD_PROTO_RX_CLOSE, 0},
#endif
};
static const char *const points[P_COUNT] = {"queued", "read", "applied", "journaled", "replied"};

/* In memory shared with the client; one writer each. */
struct shared {
	int ready;  /* client: set up, about to call */
	int go;	    /* test: call now */
	int called; /* client: the call returned */
	int32_t result;
	uint32_t regions, chans; /* what the client believes it holds */
	int verified;		 /* client: 1 every copy verified, < 0 not */
	int restarted;		 /* test: the next dmad is ready */
	int32_t rx_after;	 /* a receive on the flow it opened, then */
	int finish;		 /* test: disconnect */
};

static char sock[128];
static struct shared *sh;
/* Two dmads a run; sdtest.h keeps each until the end. */
static struct sdt_proc dmads[2 * K_COUNT * P_COUNT + 6]; /* and the three cases after */
static unsigned ndmads;

static void wait_flag(const int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		usleep(1000);
}

/* A copy of COPY_LEN from @src to @dst on @ch, every byte checked. */
static int copy_check(struct dmac_chan *ch, uint8_t *dst, const uint8_t *src, uint32_t seed)
{
	dmac_cookie_t ck;
	int r;

	pat_fill((uint8_t *)src, COPY_LEN, 0, seed, true);
	pat_fill(dst, COPY_LEN + COPIER_GUARD, 0, seed + 1, false);
	ck = dmac_memcpy(ch, dst, src, COPY_LEN, 0);
	if (ck < 0)
		return ck;
	dmac_issue_pending(ch);
	r = dmac_wait(ch, ck, STEP_MS);
	if (r < 0)
		return r;
	if (pat_check(dst, COPY_LEN, 0, seed, true) < COPY_LEN ||
	    pat_check(dst + COPY_LEN, COPIER_GUARD, COPY_LEN, seed + 1, false) < COPIER_GUARD)
		return -EILSEQ;
	return 0;
}

static __attribute__((noreturn)) void client_main(enum kind k)
{
	struct dmac_client *c = NULL;
	struct dmac_chan *ch[2] = {NULL, NULL};
	uint8_t *src = NULL, *dst = NULL, *extra = NULL;
	int r = 0, v = 1;
#ifdef FDSTORE_RX
	struct dmac_rx *closing = NULL; /* K_RX_CLOSE's flow */
#endif

	if (k != K_HELLO) {
		r = dmac_connect(sock, "reqcrash", &c);
		src = r == 0 ? dmac_region_alloc(c, BUF_LEN) : NULL;
		dst = src ? dmac_region_alloc(c, BUF_LEN) : NULL;
		r = dst ? dmac_chan_get(c, DMAC_CAP_COPY, &ch[0]) : -ENOMEM;
		if (r == 0 && k == K_UNREG && !(extra = dmac_region_alloc(c, BUF_LEN)))
			r = -errno;
		if (r == 0 && k == K_PUT)
			r = dmac_chan_get(c, DMAC_CAP_COPY, &ch[1]);
#ifdef FDSTORE_RX
		if (r == 0 && k == K_RX_CLOSE) {
			struct dmac_rx_spec spec = rxnet_spec(RX_PORT, 2048, 64);

			r = dmac_rx_open(c, &spec, &closing);
		}
#endif
		if (r < 0)
			_exit(2);
	}
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	wait_flag(&sh->go);
	switch (k) {
	case K_HELLO:
		r = dmac_connect(sock, "reqcrash", &c);
		break;
	case K_REG:
		extra = dmac_region_alloc(c, BUF_LEN);
		r = extra ? 0 : -errno;
		break;
	case K_UNREG:
		r = dmac_region_free(c, extra);
		extra = NULL;
		break;
	case K_GET:
		r = dmac_chan_get(c, DMAC_CAP_COPY, &ch[1]);
		break;
	case K_PUT:
		dmac_chan_put(ch[1]); /* returns nothing: that it returns is the point */
		ch[1] = NULL;
		break;
#ifdef FDSTORE_RX
	case K_RX: {
		struct dmac_rx_spec spec = rxnet_spec(RX_PORT, 2048, 64);
		struct dmac_rx *rx;
		char buf[2048];

		r = dmac_rx_open(c, &spec, &rx);
		if (r < 0)
			break;
		/* Once the next dmad is up, and its RESTARTED read: the flow,
		 * whichever dmad opened it, receives a stream, every byte. */
		wait_flag(&sh->restarted);
		dmac_dispatch(c);
		sh->rx_after = dmac_rx_recv(rx, buf, sizeof(buf), NULL, 0);
		if (sh->rx_after == -EAGAIN) {
			const uint32_t len = 1000;
			pid_t snd = rxnet_send(RX_PORT, RX_N, &len, 1, 100);
			struct rxnet_seen seen = rxnet_receive(rx, 0, RX_N, 1, &len, 1, 3000);

			harness_wait_child(snd, 10000, "sender");
			sh->rx_after = seen.packets == RX_N && !seen.bad_seq && !seen.bad_len &&
						       !seen.bad_payload
					       ? (int32_t)RX_N
					       : -EBADMSG;
		}
		break;
	}
	case K_RX_CLOSE:
		dmac_rx_close(closing); /* returns nothing: that it returns is the point */
		break;
#endif
	default:
		break;
	}
	sh->result = r;
	__atomic_store_n(&sh->called, 1, __ATOMIC_RELEASE);
	if (r < 0)
		_exit(1);
	if (k == K_HELLO) {
		src = dmac_region_alloc(c, BUF_LEN);
		dst = src ? dmac_region_alloc(c, BUF_LEN) : NULL;
		if (!dst || dmac_chan_get(c, DMAC_CAP_COPY, &ch[0]) < 0)
			v = -ENOMEM;
	}
	sh->regions = 2 + (extra != NULL);
	sh->chans = 1 + (ch[1] != NULL);
	/* Every channel it holds, into every region it registered. */
	for (unsigned i = 0; v == 1 && i < 2; i++) {
		if (!ch[i])
			continue;
		dmac_chan_set_copybreak(ch[i], 0);
		if ((r = copy_check(ch[i], dst, src, 7 + i)) < 0 ||
		    (extra && (r = copy_check(ch[i], extra, src + COPY_LEN, 9 + i)) < 0))
			v = r;
	}
	__atomic_store_n(&sh->verified, v, __ATOMIC_RELEASE);
	wait_flag(&sh->finish);
	dmac_disconnect(c);
	_exit(0);
}

static void start(struct sds *st, struct sdt_proc *p, const char *name)
{
	sds_start_dmad(st, p, name, sock, (const char *const[]){"--fault-injection", NULL});
}

/* Hear the store until @flag is set (true) or STEP_MS. */
static bool hear_until(struct sds *st, const int *flag)
{
	int64_t end = harness_now_ms() + STEP_MS;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE) && harness_now_ms() < end)
		sds_hear(st, 5);
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

/* Hear the store until @p ends: its exit code, -signo, or -ETIMEDOUT. */
static int hear_death(struct sds *st, struct sdt_proc *p)
{
	int64_t end = harness_now_ms() + STEP_MS;
	int status;

	while (harness_now_ms() < end) {
		sds_hear(st, 5);
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			while (sds_hear(st, 0))
				;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
		}
	}
	return -ETIMEDOUT;
}

/* The "reqcrash" client's regions and channels in `dmactl status`, and
 * how many such clients there are. */
static int counted(struct sds *st, long *ret_regions, long *ret_chans)
{
	const struct jv *a, *c;
	struct jv *v;
	int n = 0;

	for (int i = 0; i < 20; i++)
		sds_hear(st, 1);
	v = harness_status_json(sock);
	if (!v)
		return -1;
	a = jv_get(v, "clients");
	for (size_t i = 0; (c = jv_at(a, i)); i++)
		if (!strcmp(jv_str(jv_get(c, "name"), ""), "reqcrash")) {
			*ret_regions = (long)jv_num(jv_get(c, "regions"), -1);
			*ret_chans = (long)jv_num(jv_get(c, "channels"), -1);
			n++;
		}
	jv_free(v);
	return n;
}

static void run(struct sds *st, enum kind k, enum point pt)
{
	const char *what = kinds[k].name, *when = points[pt];
	struct sdt_proc *d0 = &dmads[ndmads++], *d1 = &dmads[ndmads++];
	long regions = -1, chans = -1;
	char spec[64];
	bool called, verified;
	unsigned want;
	pid_t pid = 0;
	int r, n;

	memset(sh, 0, sizeof(*sh));
	snprintf(spec, sizeof(spec), "%s:%u:%u", when, kinds[k].type, kinds[k].before + 1);
	if (pt != P_QUEUED)
		setenv("DMAD_FAULT_CRASH", spec, 1);
	start(st, d0, "dmad-a");
	unsetenv("DMAD_FAULT_CRASH");
	if (!ok(sds_ready(st, STEP_MS), "%s/%s: dmad --fdstore --fault-injection ready", what,
		when))
		goto out;
	pid = harness_fork();
	if (pid == 0) {
		close(st->nfd);
		client_main(k);
	}
	if (!ok(hear_until(st, &sh->ready), "%s/%s: the client set up", what, when))
		goto out_client;
	if (pt == P_QUEUED) {
		r = sds_stop(st, d0, SIGKILL, STEP_MS);
		__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
		/* The client's request waits in its socket, no dmad to read it. */
		for (int i = 0; i < 40; i++)
			sds_hear(st, 5);
	} else {
		__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
		r = hear_death(st, d0);
	}
	if (!ok(r == -SIGKILL, "%s/%s: dmad died (%d)", what, when, r))
		goto out_client;
	start(st, d1, "dmad-b");
	if (!ok(sds_ready(st, STEP_MS) && sdt_log_has(d1, "dmad ended without handing over"),
		"%s/%s: the next dmad took the sessions from the journal", what, when)) {
		sdt_dump_log(d1);
		goto out_client;
	}
	__atomic_store_n(&sh->restarted, 1, __ATOMIC_RELEASE);
	called = hear_until(st, &sh->called);
	if (!ok(called && sh->result == 0, "%s/%s: the call returned success, once (%s)", what,
		when, called ? strerror(-sh->result) : "still waiting"))
		goto out_client;
#ifdef FDSTORE_RX
	/* Opened by the dead dmad or the next one, the flow lives on. */
	if (k == K_RX)
		ok(sh->rx_after == RX_N,
		   "%s/%s: the flow receives %u datagrams after the crash, every byte (%s)", what,
		   when, RX_N, sh->rx_after < 0 ? strerror(-sh->rx_after) : "all");
#endif
	verified = hear_until(st, &sh->verified);
	ok(verified && sh->verified == 1, "%s/%s: a copy on each of its channels verifies (%d)",
	   what, when, sh->verified);
	n = counted(st, &regions, &chans);
	ok(n == 1 && regions == sh->regions && chans == sh->chans,
	   "%s/%s: dmad holds what the client believes: %ld region(s) of %u, %ld channel(s) of "
	   "%u (%d client)",
	   what, when, regions, sh->regions, chans, sh->chans, n);
	/* The socket, the client's connection, one journal, its regions, a
	 * ring and a doorbell per channel: nothing a dead dmad stored and
	 * never named stays. dmactl's connection leaves the store once dmad
	 * reaped it: heard for until then. */
	want = 3 + sh->regions + 2 * sh->chans;
#ifdef FDSTORE_RX
	/* And the flow's: the interface's bpf_link and three maps, the queue's
	 * AF_XDP socket and UMEM, the flow's area and eventfd. */
	if (k == K_RX)
		want += 4 + 2 + 2; /* after a close, none: the last flow takes its socket along */
#endif
	for (int64_t end = harness_now_ms() + STEP_MS; st->n != want && harness_now_ms() < end;)
		sds_hear(st, 5);
	ok(st->n == want && sds_count(st, "dmad-live-") == st->n,
	   "%s/%s: the store holds exactly the sessions' fds (%u, want %u)", what, when, st->n,
	   want);
out_client:
	__atomic_store_n(&sh->finish, 1, __ATOMIC_RELEASE);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
out:
	if (d0->pid)
		sds_stop(st, d0, SIGKILL, STEP_MS);
	if (d1->pid)
		sds_stop(st, d1, SIGKILL, STEP_MS);
	sds_clear(st);
}

/* A client with a region (and, @with_chan, a channel) that says sh->ready,
 * then on sh->go asks for a channel: sh->result, then sh->called. */
static pid_t fork_waiting_client(struct sds *st, bool with_chan)
{
	pid_t pid = harness_fork();
	struct dmac_client *c;
	struct dmac_chan *ch;

	if (pid != 0)
		return pid;
	close(st->nfd);
	if (dmac_connect(sock, "reqcrash", &c) < 0 || !dmac_region_alloc(c, BUF_LEN) ||
	    (with_chan && dmac_chan_get(c, DMAC_CAP_COPY, &ch) < 0))
		_exit(2);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	wait_flag(&sh->go);
	sh->result = dmac_chan_get(c, DMAC_CAP_COPY, &ch);
	__atomic_store_n(&sh->called, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* The store stops taking fds in the middle of a session (DMAD_FAULT_STORE:
 * the channel's ring is refused): the journal no longer says the session
 * and is voided, so after a crash the next dmad starts clean and the
 * client sees dmad gone, rather than a session without its channel. */
static void store_refused(struct sds *st)
{
	struct sdt_proc *d0 = &dmads[ndmads++], *d1 = &dmads[ndmads++];
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	setenv("DMAD_FAULT_STORE", "4", 1); /* socket, journal, region: then no more */
	start(st, d0, "dmad-refusing");
	unsetenv("DMAD_FAULT_STORE");
	if (!ok(sds_ready(st, STEP_MS), "store refused: dmad ready"))
		return;
	pid = fork_waiting_client(st, true);
	ok(hear_until(st, &sh->ready) && sdt_log_has(d0, "the fd store refused"),
	   "store refused: the client has a region and a channel, dmad logged the refusal");
	ok(sds_stop(st, d0, SIGKILL, STEP_MS) == -SIGKILL, "store refused: dmad killed");
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	start(st, d1, "dmad-after-refusal");
	ok(sds_ready(st, STEP_MS) &&
		   sdt_log_has(d1, "a session journal in the fd store is refused") &&
		   !sdt_log_has(d1, "dmad ended without handing over"),
	   "store refused: the next dmad refuses the voided journal and starts clean");
	ok(hear_until(st, &sh->called) && sh->result == -ENODEV,
	   "store refused: its client sees dmad gone (%s)", strerror(-sh->result));
	waitpid(pid, NULL, 0);
	sds_stop(st, d1, SIGKILL, STEP_MS);
	sds_clear(st);
}

/* `dmactl set` changes no session, yet its effect is the state's: dmad
 * killed right after it answered, the next dmad has it (the journal is
 * written before that answer, not with the next session change). */
static void settings(struct sds *st)
{
	struct sdt_proc *d0 = &dmads[ndmads++], *d1 = &dmads[ndmads++];
	char spec[32], out[4096];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			"--socket",
			sock,
			"set",
			"uid=4243",
			"rate",
			"32M",
			NULL};
	const struct jv *a, *u;
	double rate = -1;
	struct jv *v;
	int r;

	snprintf(spec, sizeof(spec), "replied:%u:1", DMAD_PROTO_SHARE_SET);
	setenv("DMAD_FAULT_CRASH", spec, 1);
	start(st, d0, "dmad-set");
	unsetenv("DMAD_FAULT_CRASH");
	if (!ok(sds_ready(st, STEP_MS), "settings: dmad ready"))
		return;
	r = harness_run(argv, out, sizeof(out), STEP_MS);
	ok(r == 0 && hear_death(st, d0) == -SIGKILL,
	   "settings: dmactl set uid=4243 rate 32M answered (%d), dmad killed right after", r);
	start(st, d1, "dmad-set-next");
	if (ok(sds_ready(st, STEP_MS), "settings: the next dmad is ready") &&
	    (v = harness_status_json(sock))) {
		a = jv_get(v, "user_shares");
		for (size_t i = 0; (u = jv_at(a, i)); i++)
			if (jv_num(jv_get(u, "uid"), -1) == 4243)
				rate = jv_num(jv_get(u, "rate"), -1);
		jv_free(v);
	}
	ok(rate == 32 << 20, "settings: uid 4243's rate is still 32M (%.0f)", rate);
	sds_stop(st, d1, SIGKILL, STEP_MS);
	sds_clear(st);
}

/* A session, dmad killed, its journal made version 1 (handover_journal.h:
 * the version at byte 4): refused, the client's next call -ENODEV. */
static void old_journal(struct sds *st)
{
	struct sdt_proc *d0 = &dmads[ndmads++], *d1 = &dmads[ndmads++];
	const uint32_t v1 = 1;
	bool written = false;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	start(st, d0, "dmad-v2");
	if (!ok(sds_ready(st, STEP_MS), "old journal: dmad ready"))
		return;
	pid = fork_waiting_client(st, false);
	hear_until(st, &sh->ready);
	ok(sds_stop(st, d0, SIGKILL, STEP_MS) == -SIGKILL, "old journal: dmad killed");
	for (unsigned i = 0; i < st->n; i++)
		if (strstr(st->names[i], "-state"))
			written = pwrite(st->fds[i], &v1, sizeof(v1), 4) == sizeof(v1);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	start(st, d1, "dmad-v1");
	ok(written && sds_ready(st, STEP_MS) &&
		   sdt_log_has(d1, "a session journal of another version") &&
		   !sdt_log_has(d1, "dmad ended without handing over"),
	   "old journal: a journal of version 1 is refused, dmad starts clean");
	ok(hear_until(st, &sh->called) && sh->result == -ENODEV,
	   "old journal: its client sees dmad gone (%s)", strerror(-sh->result));
	ok(st->n == 2, "old journal: the store holds the new dmad's socket and journal (%u)",
	   st->n);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sds_stop(st, d1, SIGKILL, STEP_MS);
	sds_clear(st);
}

int main(void)
{
	const char *only = getenv("REQCRASH_ONLY"); /* "kind/point", for a rerun */
	struct sds st;

	harness_watchdog(600);
	unsetenv("DMAC_COPYBREAK");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		tap_bail("out of memory");
	sdt_path(sock, sizeof(sock), "dmad.sock");
	sds_open(&st);
#ifdef FDSTORE_RX
	/* Before dmad starts: it must run in the veth pair's namespace. */
	if (geteuid() == 0)
		rxnet_setup();
#endif
	for (unsigned k = 0; k < K_COUNT; k++)
		for (unsigned p = 0; p < P_COUNT; p++) {
			char name[64];

			snprintf(name, sizeof(name), "%s/%s", kinds[k].name, points[p]);
#ifdef FDSTORE_RX
			if ((k == K_RX || k == K_RX_CLOSE) && geteuid() != 0) {
				tap_skip("%s: receive flows need root", name);
				continue;
			}
#endif
			if (!only || !strcmp(only, name))
				run(&st, k, p);
		}
	if (!only || !strcmp(only, "old-journal"))
		old_journal(&st);
	if (!only || !strcmp(only, "settings"))
		settings(&st);
	if (!only || !strcmp(only, "store-refused"))
		store_refused(&st);
	return tap_done();
}
