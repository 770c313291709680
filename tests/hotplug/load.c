/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "load.h"

#define SRC_LEN	  (1u << 20)
#define DST_LEN	  (2u << 20)
#define MAX_COPY  (64u << 10)
#define ROUND_MAX 32
/* Far beyond any drain the tests allow: a wait this long is a lost copy. */
#define WAIT_MS 20000
/* A move's stall is looked for in this many rounds up to its event (see look_around). */
#define MOVE_ROUNDS 4

struct job {
	size_t src_off, dst_off, len;
	dmac_cookie_t cookie;
};

struct load {
	struct dmac_client *client;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	uint32_t seed, rng;
	char dev[32];
	/* Longest dmac_wait() of the last MOVE_ROUNDS rounds; this one's at round % MOVE_ROUNDS. */
	uint64_t round_stall_us[MOVE_ROUNDS];
	uint64_t round;
	struct load_result *res;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* Record the first failure only: later ones are usually its echo. */
__attribute__((format(printf, 3, 4))) static int fail(struct load *l, int err, const char *fmt, ...)
{
	va_list ap;

	if (l->res->err)
		return l->res->err;
	l->res->err = err;
	va_start(ap, fmt);
	vsnprintf(l->res->why, sizeof(l->res->why), fmt, ap);
	va_end(ap);
	return err;
}

static void on_event(const struct dmac_event *ev, void *arg)
{
	struct load_result *res = arg;

	if (ev->type == DMAC_EVENT_CHAN_MOVED)
		res->ev_moved++;
	else if (ev->type == DMAC_EVENT_CHAN_CPU)
		res->ev_cpu++;
	else if (ev->type == DMAC_EVENT_DEVICE_ADDED)
		res->ev_added++;
	if (ev->stall_us > res->max_ev_stall_us)
		res->max_ev_stall_us = ev->stall_us;
}

/*
 * is_complete(c) must imply that every earlier cookie is complete, and a
 * cookie once complete stays so. Asking from the newest down, a later answer
 * can only be "more complete", so a correct daemon never fails this, however
 * the reads interleave with it. @done: how many of @jobs an earlier look
 * found complete; updated.
 */
static int check_order(struct load *l, const struct job *jobs, unsigned int m, unsigned int *done)
{
	unsigned int done_now = 0;

	for (unsigned int i = m; i-- > 0;) {
		enum dmac_status s = dmac_is_complete(l->ch, jobs[i].cookie);

		if (s == DMAC_ERROR)
			return fail(l, -EIO, "cookie %d completed with an error", jobs[i].cookie);
		if (s == DMAC_IN_PROGRESS && done_now)
			return fail(l, -EILSEQ,
				    "cookie %d is in progress while a later one is complete",
				    jobs[i].cookie);
		if (s == DMAC_IN_PROGRESS && i < *done)
			return fail(l, -EILSEQ, "cookie %d was complete and is in progress again",
				    jobs[i].cookie);
		if (s == DMAC_COMPLETE && !done_now)
			done_now = i + 1;
	}
	*done = done_now > *done ? done_now : *done;
	return 0;
}

static int timed_wait(struct load *l, dmac_cookie_t cookie)
{
	uint64_t t0 = now_us(), dt;
	int r = dmac_wait(l->ch, cookie, WAIT_MS);

	dt = now_us() - t0;
	if (dt > l->res->max_stall_us)
		l->res->max_stall_us = dt;
	if (dt > l->round_stall_us[l->round % MOVE_ROUNDS])
		l->round_stall_us[l->round % MOVE_ROUNDS] = dt;
	if (r < 0)
		return fail(l, r, "dmac_wait(%d) after %llu us: %s", cookie, (unsigned long long)dt,
			    strerror(-r));
	return 0;
}

static int submit(struct load *l, struct job *j, dmac_cookie_t last)
{
	for (int tries = 0; tries < 3; tries++) {
		j->cookie = dmac_memcpy(l->ch, l->dst + j->dst_off, l->src + j->src_off, j->len, 0);
		if (j->cookie != -EAGAIN)
			break;
		/* Ring full: make room by waiting for what is queued. */
		if (last < 0 || timed_wait(l, last) < 0)
			break;
	}
	if (j->cookie < 0)
		return fail(l, j->cookie, "dmac_memcpy of %zu bytes: %s", j->len,
			    strerror(-j->cookie));
	return 0;
}

static int verify(struct load *l, const struct job *jobs, unsigned int m, size_t end)
{
	size_t pos = 0, bad;

	for (unsigned int i = 0; i < m; i++) {
		const struct job *j = &jobs[i];

		if (dmac_is_complete(l->ch, j->cookie) != DMAC_COMPLETE)
			return fail(l, -EILSEQ, "cookie %d not complete after its successor",
				    j->cookie);
		bad = pat_check(l->dst + pos, j->dst_off - pos, pos, l->seed, false);
		if (bad < j->dst_off - pos)
			return fail(l, -EILSEQ, "guard byte dst+%zu before copy %u changed",
				    pos + bad, i);
		bad = pat_check(l->dst + j->dst_off, j->len, j->src_off, l->seed, true);
		if (bad < j->len)
			return fail(l, -EILSEQ,
				    "copy %u (cookie %d, %zu bytes src+%zu -> dst+%zu): byte %zu "
				    "wrong",
				    i, j->cookie, j->len, j->src_off, j->dst_off, bad);
		bad = pat_check(l->src + j->src_off, j->len, j->src_off, l->seed, true);
		if (bad < j->len)
			return fail(l, -EILSEQ, "copy %u changed its source", i);
		pos = j->dst_off + j->len;
	}
	bad = pat_check(l->dst + pos, end - pos, pos, l->seed, false);
	if (bad < end - pos)
		return fail(l, -EILSEQ, "guard byte dst+%zu after the last copy changed",
			    pos + bad);
	return 0;
}

/* Random sizes and offsets, each destination between guards, order checked mid-flight. */
static int round_once(struct load *l)
{
	struct job jobs[ROUND_MAX];
	unsigned int n = 1 + rnd(&l->rng) % ROUND_MAX, m = 0, done = 0;
	size_t pos = rnd(&l->rng) % 64, end;
	dmac_cookie_t last = -1;
	int r;

	while (m < n) {
		struct job *j = &jobs[m];

		j->len = rnd_len(&l->rng, MAX_COPY);
		if (pos + 2 * COPIER_GUARD + j->len > DST_LEN)
			break;
		j->dst_off = pos + COPIER_GUARD;
		j->src_off = rnd(&l->rng) % (SRC_LEN - j->len + 1);
		pos = j->dst_off + j->len + COPIER_GUARD + rnd(&l->rng) % 64;
		m++;
	}
	end = pos < DST_LEN ? pos : DST_LEN;
	pat_fill(l->dst, end, 0, l->seed, false);

	for (unsigned int i = 0; i < m; i++) {
		if (submit(l, &jobs[i], last) < 0)
			return l->res->err;
		last = jobs[i].cookie;
		if (rnd(&l->rng) % 8 == 0) {
			dmac_issue_pending(l->ch);
			if (check_order(l, jobs, i + 1, &done) < 0)
				return l->res->err;
		}
	}
	dmac_issue_pending(l->ch);
	/* Look at the order while the engine is halfway, then at the end. */
	if ((r = check_order(l, jobs, m, &done)) < 0 ||
	    (r = timed_wait(l, jobs[m / 2].cookie)) < 0 ||
	    (r = check_order(l, jobs, m, &done)) < 0 || (r = timed_wait(l, last)) < 0)
		return r;
	r = verify(l, jobs, m, end);
	if (r < 0)
		return r;
	l->res->copies += m;
	for (unsigned int i = 0; i < m; i++)
		l->res->bytes += jobs[i].len;
	l->res->rounds++;
	return 0;
}

/*
 * Events first, so that dmac_chan_device() names where the channel is now.
 * A wait that a move stalled ends shortly before or after the daemon sends
 * the move's event: after, when the channel completes on its new device
 * only once attached there; before, when the CPU redid what a hung device
 * held, or when the new device completes a copy before the event is out.
 * So the longest wait of the last few rounds up to the one after which the
 * event is read is what the move cost this client, told apart from the
 * ordinary waits of the rest of the run.
 */
static int look_around(struct load *l)
{
	uint32_t moves = l->res->ev_moved + l->res->ev_cpu;
	const char *dev;
	int r = dmac_dispatch(l->client);

	if (r < 0)
		return fail(l, r, "dmac_dispatch: %s", strerror(-r));
	for (unsigned int i = 0; l->res->ev_moved + l->res->ev_cpu != moves && i < MOVE_ROUNDS; i++)
		if (l->round_stall_us[i] > l->res->move_stall_us)
			l->res->move_stall_us = l->round_stall_us[i];
	l->round_stall_us[++l->round % MOVE_ROUNDS] = 0;
	dev = dmac_chan_device(l->ch);
	if (strcmp(dev, l->dev)) {
		snprintf(l->dev, sizeof(l->dev), "%s", dev);
		l->res->devices_seen++;
	}
	l->res->rounds_on_cpu += !strcmp(dev, "cpu");
	return 0;
}

static bool stop_requested(int fd, int64_t deadline_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (deadline_ms && harness_now_ms() >= deadline_ms)
		return true;
	return fd >= 0 && poll(&p, 1, 0) != 0;
}

int load_run(const char *socket, const char *name, uint32_t seed, int stop_fd, int round_fd,
	     int64_t deadline_ms, struct load_result *res)
{
	struct load l = {.seed = seed, .rng = seed * 2654435761u + 1, .res = res};
	int r;

	memset(res, 0, sizeof(*res));
	r = dmac_connect(socket, name, &l.client);
	if (r < 0)
		return fail(&l, r, "dmac_connect: %s", strerror(-r));
	dmac_set_event_cb(l.client, on_event, res);
	l.src = dmac_region_alloc(l.client, SRC_LEN);
	l.dst = l.src ? dmac_region_alloc(l.client, DST_LEN) : NULL;
	if (!l.dst) {
		fail(&l, -errno, "dmac_region_alloc: %s", strerror(errno));
		goto out;
	}
	r = dmac_chan_get(l.client, DMAC_CAP_COPY, &l.ch);
	if (r < 0) {
		fail(&l, r, "dmac_chan_get: %s", strerror(-r));
		goto out;
	}
	res->copybreak = (uint32_t)dmac_chan_copybreak(l.ch);
	snprintf(l.dev, sizeof(l.dev), "%s", dmac_chan_device(l.ch));
	res->devices_seen = 1;
	pat_fill(l.src, SRC_LEN, 0, seed, true);

	do {
		ssize_t w;

		if (round_once(&l) < 0 || look_around(&l) < 0)
			break;
		/* Non-blocking: a reader that stopped counting costs nothing. */
		w = round_fd >= 0 ? write(round_fd, "", 1) : 0;
		(void)w;
	} while (!stop_requested(stop_fd, deadline_ms));
	snprintf(res->last_dev, sizeof(res->last_dev), "%s", l.dev);
out:
	dmac_chan_put(l.ch);
	dmac_disconnect(l.client);
	return res->err;
}

void loader_start(struct loader *l, const char *socket, const char *name, uint32_t seed)
{
	int stop[2], rounds[2], res[2];

	if (pipe2(stop, O_CLOEXEC) < 0 || pipe2(rounds, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(res, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));
	l->pid = harness_fork();
	if (l->pid == 0) {
		struct load_result r;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		close(stop[1]);
		close(rounds[0]);
		close(res[0]);
		load_run(socket, name, seed, stop[0], rounds[1], 0, &r);
		_exit(write(res[1], &r, sizeof(r)) == (ssize_t)sizeof(r) && !r.err ? 0 : 1);
	}
	/* A loader that failed has exited: telling it to stop must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	close(stop[0]);
	close(rounds[1]);
	close(res[1]);
	l->stop_fd = stop[1];
	l->round_fd = rounds[0];
	l->res_fd = res[0];
}

bool loader_rounds(struct loader *l, unsigned int n, int timeout_ms)
{
	struct pollfd p = {.fd = l->round_fd, .events = POLLIN};
	int64_t end = harness_now_ms() + timeout_ms;
	char buf[256];
	ssize_t r;

	while (read(l->round_fd, buf, sizeof(buf)) > 0)
		;
	while (n) {
		int64_t left = end - harness_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return false;
		r = read(l->round_fd, buf, n < sizeof(buf) ? n : sizeof(buf));
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return false; /* it has exited */
		if (r > 0)
			n -= (unsigned int)r;
	}
	return true;
}

bool loader_stop(struct loader *l, struct load_result *res)
{
	struct pollfd p = {.fd = l->res_fd, .events = POLLIN};
	bool got;

	/* A byte, not EOF: loaders forked later hold copies of this pipe's end. */
	if (write(l->stop_fd, "", 1) != 1)
		tap_diag("cannot tell loader %d to stop: %s", (int)l->pid, strerror(errno));
	close(l->stop_fd);
	/* Its current round may include one wait of up to WAIT_MS. */
	got = poll(&p, 1, 2 * WAIT_MS) == 1 && read(l->res_fd, res, sizeof(*res)) == sizeof(*res);
	if (!got) {
		memset(res, 0, sizeof(*res));
		res->err = -ECHILD;
		snprintf(res->why, sizeof(res->why), "reported no result");
	}
	close(l->round_fd);
	close(l->res_fd);
	return harness_wait_child(l->pid, 5000, "loader") && got;
}
