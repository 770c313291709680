/* SPDX-License-Identifier: MIT */
/*
 * dmad (--fdstore, this test as the service manager) SIGKILLed while an
 * engine holds copies into a region its client has already freed, and
 * after the client registered a new region: the next dmad redoes what the
 * engine held, and those copies must land in the freed region they were
 * written for, never in the new one (dmac_region_free(): "A region
 * registered later never receives them").
 *
 * The engine holds the copies for a reason that does not depend on
 * timing: it hangs (dmactl fault ... hang, with a watchdog longer than the
 * test). The client speaks the protocol by hand so that it sees region
 * ids: it frees V, then registers W again and again (unregistering each
 * that got another id) for a while, to give W V's id if dmad lets it go.
 * A dmad that lets an id go while copies that name it may be redone after
 * a crash writes them into W.
 *
 * Then a region X registered and freed with nothing in flight: once dmad
 * unmapped it, its memfd leaves the fd store, and the journal must no
 * longer name it: after a second SIGKILL the next dmad must take the
 * sessions back, not refuse a journal that names an fd the store lost.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"
#include "sdstore.h"

#define NCOPY	    32
#define COPY_LEN    (8u << 10)
#define LEN	    (NCOPY * COPY_LEN)
#define STEP_MS	    30000
#define REUSE_TRIES 100 /* registrations of W, 20 ms apart, to get V's id */

static char sock[128];

/* What the client says: its ids, then how its copies came out. */
struct report {
	uint32_t v_id, w_id;
	uint32_t done, err_records, v_wrong, w_changed;
};

static bool unreg(int fd, uint32_t id)
{
	struct dmad_proto_region_unreg_req req = {.region_id = id};

	return raw_request(fd, DMAD_PROTO_REGION_UNREG, &req, sizeof(req), NULL, 0, NULL) == 0;
}

/* Byte 'a' on @out once V is freed and W registered; on 'g' from @in, check. */
static __attribute__((noreturn)) void client_main(int in, int out)
{
	struct report rep = {0};
	struct raw_chan ch;
	uint32_t s_id, x_id, last = 0;
	void *s, *v, *w, *x;
	int x_fd;
	int fd = raw_connect(sock), s_fd, v_fd, w_fd = -1;
	char b;

	s_fd = raw_memfd(LEN, true, &s);
	v_fd = raw_memfd(LEN, true, &v);
	if (fd < 0 || raw_hello(fd, "victim") || raw_region_reg(fd, s_fd, LEN, &s_id) ||
	    raw_region_reg(fd, v_fd, LEN, &rep.v_id) || raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch))
		_exit(2);
	pat_fill(s, LEN, 0, 5, true);
	pat_fill(v, LEN, 0, 5, false);
	for (unsigned i = 0; i < NCOPY; i++)
		last = raw_chan_push(&ch, (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
								   .src_region = (uint16_t)s_id,
								   .dst_region = (uint16_t)rep.v_id,
								   .src_off = i * COPY_LEN,
								   .dst_off = i * COPY_LEN,
								   .len = COPY_LEN});
	raw_chan_issue(&ch);
	if (!unreg(fd, rep.v_id))
		_exit(2);
	for (unsigned t = 0; t < REUSE_TRIES; t++) {
		if (w_fd >= 0) {
			if (!unreg(fd, rep.w_id))
				_exit(2);
			munmap(w, LEN);
			close(w_fd);
			poll(NULL, 0, 20);
		}
		w_fd = raw_memfd(LEN, true, &w);
		if (raw_region_reg(fd, w_fd, LEN, &rep.w_id))
			_exit(2);
		if (rep.w_id == rep.v_id)
			break;
	}
	memset(w, 0, LEN);
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || read(in, &b, 1) != 1)
		_exit(2);

	rep.done = raw_chan_wait(&ch, last, STEP_MS);
	rep.err_records = __atomic_load_n(&ch.ring->err_tail, __ATOMIC_ACQUIRE);
	rep.v_wrong = (uint32_t)(LEN - pat_check(v, LEN, 0, 5, true));
	for (size_t i = 0; i < LEN; i++)
		rep.w_changed += ((uint8_t *)w)[i] != 0;
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || read(in, &b, 1) != 1)
		_exit(2);

	/* X, registered and freed with nothing in flight: it goes for good. */
	x_fd = raw_memfd(LEN, true, &x);
	if (raw_region_reg(fd, x_fd, LEN, &x_id) || !unreg(fd, x_id))
		_exit(2);
	if (write(out, &rep, sizeof(rep)) != sizeof(rep) || read(in, &b, 1) != 1)
		_exit(2);

	/* After the next crash: the session still copies, S to W. */
	memset(w, 0, LEN);
	last = raw_chan_push(&ch, (struct dmad_proto_desc){.op = DMAD_PROTO_OP_COPY,
							   .src_region = (uint16_t)s_id,
							   .dst_region = (uint16_t)rep.w_id,
							   .len = COPY_LEN});
	raw_chan_issue(&ch);
	rep.done = raw_chan_wait(&ch, last, STEP_MS);
	rep.w_changed = (uint32_t)pat_check(w, COPY_LEN, 0, 5, true);
	_exit(write(out, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 2);
}

/* The client's next report, hearing the store meanwhile (dmad blocks if nobody does). */
static bool hear_report(struct sds *st, int fd, struct report *rep)
{
	int64_t end = harness_now_ms() + STEP_MS;

	while (harness_now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 0) == 1)
			return read(fd, rep, sizeof(*rep)) == sizeof(*rep);
		sds_hear(st, 10);
	}
	return false;
}

int main(void)
{
	static const char *const extra[] = {"--fault-injection", "--watchdog-ms", "60000", NULL};
	struct sdt_proc dmads[3] = {0};
	char xname[SDS_NAME] = "";
	bool acked = false, gone = false;
	int to_child[2], from_child[2];
	struct report rep = {0};
	char out[512];
	struct sds st;
	pid_t pid;
	int r;

	harness_watchdog(120);
	sdt_path(sock, sizeof(sock), "dmad.sock");
	sds_open(&st);
	sds_start_dmad(&st, &dmads[0], "dmad-0", sock, extra);
	if (!ok(sds_ready(&st, STEP_MS), "dmad --fdstore under a manager: READY=1"))
		return tap_done();
	r = harness_run((char *[]){(char *)harness_env("DMACTL_BIN"), (char *)"--socket", sock,
				   (char *)"fault", (char *)"dma_skeleton0", (char *)"hang", NULL},
			out, sizeof(out), STEP_MS);
	ok(r == 0, "dmactl fault dma_skeleton0 hang (%d)", r);

	if (pipe(to_child) < 0 || pipe(from_child) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		close(st.nfd);
		client_main(to_child[0], from_child[1]);
	}
	if (!ok(hear_report(&st, from_child[0], &rep),
		"the client queued copies into V, freed V and registered W"))
		return tap_done();
	tap_diag("V had id %u, W has id %u", rep.v_id, rep.w_id);

	r = sds_stop(&st, &dmads[0], SIGKILL, STEP_MS);
	ok(r == -SIGKILL, "dmad SIGKILLed with the copies on the hung engine (%d)", r);
	sds_start_dmad(&st, &dmads[1], "dmad-1", sock, NULL);
	ok(sds_ready(&st, STEP_MS), "the next dmad, given the store, is ready");
	ok(sdt_log_has(&dmads[1], "dmad ended without handing over"),
	   "it took the sessions from the journal");
	/* It tells the store to forget the dead dmad's names once its own
	 * journal is there. */
	sds_hear_for(&st, 200);
	if (write(to_child[1], "g", 1) != 1)
		tap_bail("write: %s", strerror(errno));
	if (!ok(hear_report(&st, from_child[0], &rep), "the client checked its copies"))
		return tap_done();
	ok(rep.done, "every copy into V completed after the crash");
	ok(!rep.err_records, "no copy completed with an error (%u error records)", rep.err_records);
	ok(!rep.v_wrong, "V, freed before the crash, holds every byte (%u wrong)", rep.v_wrong);
	ok(!rep.w_changed, "W, registered after V was freed, is untouched (%u bytes changed)",
	   rep.w_changed);

	/* X registered and freed: once dmad unmapped it, its memfd leaves
	 * the store, and the journal must not name it any more. */
	if (write(to_child[1], "h", 1) != 1)
		tap_bail("write: %s", strerror(errno));
	for (int64_t end = harness_now_ms() + STEP_MS;
	     !(acked && gone) && harness_now_ms() < end;) {
		struct pollfd p = {.fd = from_child[0], .events = POLLIN};
		const char *msg, *name;

		if (!acked && poll(&p, 1, 0) == 1)
			acked = read(from_child[0], &rep, sizeof(rep)) == sizeof(rep);
		if (!(msg = sds_hear(&st, 10)) || !(name = sdt_value(msg, "FDNAME=")) ||
		    strstr(name, "-state"))
			continue;
		/* X's memfd is the first fd stored after the request but the journal. */
		if (sdt_has_line(msg, "FDSTORE=1") && !xname[0])
			snprintf(xname, sizeof(xname), "%s", name);
		else if (sdt_has_line(msg, "FDSTOREREMOVE=1") && !strcmp(name, xname))
			gone = true;
	}
	ok(acked && gone, "X registered and freed; its memfd left the store (%s)", xname);
	r = sds_stop(&st, &dmads[1], SIGKILL, STEP_MS);
	ok(r == -SIGKILL, "dmad SIGKILLed again (%d)", r);
	sds_start_dmad(&st, &dmads[2], "dmad-2", sock, NULL);
	ok(sds_ready(&st, STEP_MS), "the next dmad is ready");
	ok(!sdt_log_has(&dmads[2], "refusing the handover state") &&
		   sdt_log_has(&dmads[2], "dmad ended without handing over"),
	   "it took the sessions from the journal, which names no fd the store lost");
	if (write(to_child[1], "i", 1) != 1 || !hear_report(&st, from_child[0], &rep))
		tap_bail("the client did not report");
	ok(rep.done && rep.w_changed == COPY_LEN,
	   "the client's session still copies after it (done %u, %u bytes right)", rep.done,
	   rep.w_changed);
	ok(harness_wait_child(pid, STEP_MS, "the client"), "the client exits 0");

	r = sds_stop(&st, &dmads[2], SIGTERM, STEP_MS);
	ok(r == 0, "the next dmad exits 0 on SIGTERM (%d)", r);
	sds_clear(&st);
	return tap_done();
}
