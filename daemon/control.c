/* SPDX-License-Identifier: MIT */
/*
 * One io_uring carries every slow-path event: new connections, requests
 * (recvmsg with SCM_RIGHTS), signals (signalfd) and the reclaim tick
 * (timerfd). Nothing here is on the copy path.
 */
#include <errno.h>
#include <grp.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "chan.h"
#include "client.h"
#include "closer.h"
#include "control.h"
#include "handover_fdstore.h"
#include "hotplug.h"
#include "log.h"
#include "metrics_http.h"
#include "monitor.h"
#include "notify.h"
#include "place.h"
#include "reload.h"
#include "telemetry.h"

#define TICK_MS	     20
#define FAST_TICK_US 500
/* A connection refused over the client limit answers its first request
 * with -EDQUOT and goes; one that says nothing goes after this long. */
#define REFUSED_LINGER_MS 1000

enum op { OP_ACCEPT = 1, OP_SIGNAL = 2, OP_TICK = 3, OP_RECV = 4, OP_MONITOR = 5, OP_WATCH = 6 };

/* user_data: a pointer with the operation in its low bits (pointers are 8-aligned). */
#define TAG(p, op) ((uint64_t)(uintptr_t)(p) | (uint64_t)(op))
#define TAG_OP(u)  ((enum op)((u)&7))
#define TAG_PTR(u) ((void *)(uintptr_t)((u) & ~(uint64_t)7))

static struct {
	struct io_uring ring;
	int lfd, sfd, tfd, mfd;
	bool accept_paused;
	bool ring_up;
	struct signalfd_siginfo si;
	uint64_t expirations;
	bool stop;
	unsigned armed; /* operations in flight on the ring, for control_quiesce() */
} ctl = {.lfd = -1, .sfd = -1, .tfd = -1, .mfd = -1};

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ctl.ring);

	if (!sqe) {
		io_uring_submit(&ctl.ring);
		sqe = io_uring_get_sqe(&ctl.ring);
	}
	ctl.armed++;
	return sqe; /* non-NULL: we never have more in flight than the ring holds */
}

static void arm_accept(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_accept(sqe, ctl.lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, TAG(NULL, OP_ACCEPT));
}

static void arm_signal(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_read(sqe, ctl.sfd, &ctl.si, sizeof(ctl.si), 0);
	io_uring_sqe_set_data64(sqe, TAG(NULL, OP_SIGNAL));
}

static void arm_tick(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_read(sqe, ctl.tfd, &ctl.expirations, sizeof(ctl.expirations), 0);
	io_uring_sqe_set_data64(sqe, TAG(NULL, OP_TICK));
}

static void arm_monitor(void)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_poll_add(sqe, ctl.mfd, POLLIN);
	io_uring_sqe_set_data64(sqe, TAG(NULL, OP_MONITOR));
}

void control_watch(int fd, unsigned events, struct control_watch *w)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_poll_add(sqe, fd, events);
	io_uring_sqe_set_data64(sqe, TAG(w, OP_WATCH));
}

static void arm_recv(struct client *c)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recvmsg(sqe, c->fd, client_recv_prepare(c), MSG_CMSG_CLOEXEC);
	io_uring_sqe_set_data64(sqe, TAG(c, OP_RECV));
	c->recv_pending = true;
}

/* While a drain runs, look often: the clients' stall is measured in ticks. */
static void set_tick(bool fast)
{
	static bool is_fast;
	long ns = (fast ? FAST_TICK_US * 1000L : TICK_MS * 1000000L);
	struct itimerspec its = {.it_interval = {0, ns}, .it_value = {0, ns}};

	if (fast != is_fast && timerfd_settime(ctl.tfd, 0, &its, NULL) == 0)
		is_fast = fast;
}

static void on_accept(int res)
{
	struct client *c;

	if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
		/* Out of fds or memory: re-arming now would spin on the same error.
		 * Try again at the next tick, once clients may have gone. */
		if (!ctl.accept_paused)
			log_warning_errno(res, "cannot accept clients for now: %m");
		ctl.accept_paused = true;
		return;
	}
	arm_accept();
	if (res < 0) {
		log_warning_errno(res, "accept on the control socket failed: %m");
		return;
	}
	c = client_new(res);
	if (!c) {
		log_warning("cannot take a new client: out of memory");
		close(res);
		return;
	}
	arm_recv(c);
}

static void on_recv(struct client *c, int res)
{
	c->recv_pending = false;
	if (res <= 0) {
		client_close(c);
		return;
	}
	client_handle(c, res);
	/* Its fds still wait to be closed: it sends no more meanwhile. */
	if (closer_done(c->closer_ticket))
		arm_recv(c);
	else
		c->recv_held = true;
	/* RESTART was answered: serve no more, hand every session over. */
	if (dmad.restart)
		ctl.stop = true;
	/* A request may have started a drain: finish it now if the device held
	 * nothing, else tick fast until it has drained. */
	set_tick(hotplug_tick());
}

static void on_signal(int res)
{
	if (res == (int)sizeof(ctl.si)) {
		if (ctl.si.ssi_signo == SIGTERM && handover_fdstore_usable()) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			dmad.restart_ns =
				(uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			dmad.restart = dmad.restart_store = true;
			log_notice(
				"SIGTERM: handing every session to the service manager's fd store");
			ctl.stop = true;
			return;
		}
		if (ctl.si.ssi_signo == SIGTERM || ctl.si.ssi_signo == SIGINT) {
			log_info("%s: stopping", strsignal((int)ctl.si.ssi_signo));
			ctl.stop = true;
			return;
		}
		/* SIGHUP: `systemctl reload dmad`. */
		reload();
	}
	arm_signal();
}

/* Periodic: watchdog, drains, drop clients whose ring went bad, free what has drained. */
static void on_tick(void)
{
	struct client *c = dmad.clients, *next;
	uint64_t now = client_now_ms();

	arm_tick();
	if (ctl.accept_paused) {
		ctl.accept_paused = false;
		arm_accept();
	}
	set_tick(hotplug_tick());
	place_tick(now);
	hotplug_balance_tick(now);
	rcu_reclaim();
	/* STATUS= and the service watchdog ping, from here on purpose: a stuck
	 * control thread must stop the pings as surely as a stuck worker. */
	notify_tick();
	monitor_tick();
	metrics_tick();
	for (; c; c = next) {
		next = c->next;
		if (c->recv_held && !c->closing && closer_done(c->closer_ticket)) {
			c->recv_held = false;
			arm_recv(c);
		}
		if (c->refused && !c->closing && now - c->refused_ms > REFUSED_LINGER_MS)
			shutdown(c->fd, SHUT_RDWR);
		for (struct chan *ch = c->chans; ch && !c->closing; ch = ch->next) {
			if (rcu_deref(ch->faulted)) {
				log_warning(
					"client %u (pid %d): channel %u ring index out of range; "
					"disconnecting it",
					c->id, (int)c->cred.pid, ch->id);
				shutdown(c->fd, SHUT_RDWR);
				break;
			}
		}
		if (client_reap(c) && !c->recv_pending)
			client_free(c);
	}
}

static int setup_fds(void)
{
	struct itimerspec its = {
		.it_interval = {0, TICK_MS * 1000000L},
		.it_value = {0, TICK_MS * 1000000L},
	};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	ctl.sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (ctl.sfd < 0)
		return log_error_errno(-errno, "signalfd: %m");
	ctl.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (ctl.tfd < 0 || timerfd_settime(ctl.tfd, 0, &its, NULL) < 0)
		return log_error_errno(-errno, "timerfd: %m");
	return 0;
}

int control_run(int lfd, void (*ready)(void))
{
	int ret;

	ctl.lfd = lfd;
	ret = setup_fds();
	if (ret < 0)
		return ret;
	ret = io_uring_queue_init(256, &ctl.ring, 0);
	if (ret < 0)
		return log_error_errno(ret, "io_uring_queue_init: %m");
	ctl.ring_up = true;
	/* Sessions a dmad before a restart handed over (handover_restore()). */
	for (struct client *c = dmad.clients; c; c = c->next)
		if (!c->closing)
			arm_recv(c);
	arm_accept();
	arm_signal();
	arm_tick();
	metrics_start();
	telemetry_start();
	ret = hotplug_monitor_start(&ctl.mfd);
	if (ret < 0)
		log_notice("device event monitor unavailable (%s): surprise removal is caught by "
			   "the watchdog alone",
			   strerror(-ret));
	else
		arm_monitor();
	if (ready)
		ready();

	while (!ctl.stop) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		ret = io_uring_submit_and_wait(&ctl.ring, 1);
		if (ret < 0 && ret != -EINTR)
			return log_error_errno(ret, "io_uring: %m");
		io_uring_for_each_cqe(&ctl.ring, head, cqe)
		{
			uint64_t u = io_uring_cqe_get_data64(cqe);

			n++;
			ctl.armed--;
			switch (TAG_OP(u)) {
			case OP_ACCEPT:
				on_accept(cqe->res);
				break;
			case OP_SIGNAL:
				on_signal(cqe->res);
				break;
			case OP_TICK:
				on_tick();
				break;
			case OP_RECV:
				on_recv(TAG_PTR(u), cqe->res);
				break;
			case OP_MONITOR:
				hotplug_monitor_read(ctl.mfd);
				arm_monitor();
				set_tick(hotplug_tick());
				break;
			case OP_WATCH: {
				struct control_watch *w = TAG_PTR(u);

				w->fn(w, cqe->res);
				break;
			}
			}
		}
		io_uring_cq_advance(&ctl.ring, n);
	}
	return 0;
}

/*
 * Before a handover, nothing may be left half-received: cancel every
 * operation in flight and serve what completed meanwhile (a request
 * received is answered, a connection accepted becomes a client), arming
 * nothing new. What arrives later waits in the sockets for the next dmad.
 */
void control_quiesce(void)
{
	struct io_uring_sqe *sqe;

	if (!ctl.ring_up)
		return;
	sqe = io_uring_get_sqe(&ctl.ring);
	if (!sqe) {
		io_uring_submit(&ctl.ring);
		sqe = io_uring_get_sqe(&ctl.ring);
	}
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, 0);
	ctl.armed++;
	while (ctl.armed) {
		struct io_uring_cqe *cqe;
		uint64_t u;

		if (io_uring_submit_and_wait(&ctl.ring, 1) < 0 && errno != EINTR)
			break;
		if (io_uring_peek_cqe(&ctl.ring, &cqe) < 0)
			continue;
		u = io_uring_cqe_get_data64(cqe);
		ctl.armed--;
		if (u && TAG_OP(u) == OP_ACCEPT && cqe->res >= 0 && !client_new(cqe->res))
			close(cqe->res);
		if (u && TAG_OP(u) == OP_RECV) {
			struct client *c = TAG_PTR(u);

			c->recv_pending = false;
			if (cqe->res > 0)
				client_handle(c, cqe->res);
			else if (cqe->res != -ECANCELED)
				client_close(c);
		}
		io_uring_cqe_seen(&ctl.ring, cqe);
	}
}

void control_shutdown(void)
{
	struct dmad_proto_event ev = {.type = DMAD_PROTO_EV_SHUTDOWN};

	hotplug_shutdown();
	while (dmad.clients) {
		struct client *c = dmad.clients;

		for (struct chan *ch = c->chans; ch; ch = ch->next)
			chan_mark_dead(ch);
		client_event(c, &ev);
		/* Workers have stopped and drained: everything frees at once. */
		client_close(c);
		client_reap(c);
		client_free(c);
	}
	/* Also after a control_run() that failed half-way. */
	if (ctl.ring_up)
		io_uring_queue_exit(&ctl.ring);
	if (ctl.sfd >= 0)
		close(ctl.sfd);
	if (ctl.tfd >= 0)
		close(ctl.tfd);
}

/* Is something already serving @path? Then refuse rather than steal it. */
static bool socket_live(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool live;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return live;
}

int control_listen(const char *path, int *ret_owned)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	struct group *g;
	int fd, n;

	n = sd_listen_fds(1);
	if (n > 1)
		return log_error_errno(-EINVAL, "systemd passed %d sockets; expected one", n);
	if (n == 1) {
		if (sd_is_socket(SD_LISTEN_FDS_START, AF_UNIX, SOCK_SEQPACKET, 1) <= 0)
			return log_error_errno(-EINVAL,
					       "the socket from systemd is not a listening "
					       "AF_UNIX SOCK_SEQPACKET socket");
		*ret_owned = 0;
		return SD_LISTEN_FDS_START;
	}

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return log_error_errno(-errno, "cannot create %s: %m", dir);
	}
	if (socket_live(path))
		return log_error_errno(-EADDRINUSE, "another dmad already serves %s", path);
	unlink(path);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "socket: %m");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int ret = log_error_errno(-errno, "cannot listen on %s: %m", path);

		close(fd);
		return ret;
	}
	/* Members of group dma may connect, as clients; everyone else may not.
	 * Who of them is an admin is admin.c's question, not the socket's. */
	chmod(path, 0660);
	g = getgrnam(SOCKET_GROUP);
	if (g && chown(path, (uid_t)-1, g->gr_gid) < 0)
		log_warning_errno(-errno, "cannot give %s to group " SOCKET_GROUP ": %m", path);
	*ret_owned = 1;
	return fd;
}
