/* SPDX-License-Identifier: MIT */
/*
 * Who may ask what. Before HELLO every request is refused (-EPROTO) and
 * nothing happens; a client connected as nobody (the credential is the one
 * SO_PEERCRED records at connect) may use copy channels and read STATUS
 * and FLOWS (its own part of them: test-hostile-tiers), but gets -EACCES
 * for every admin request, and none of them takes effect: no device is
 * removed, added or hung (the daemon runs with --fault-injection, so a hang
 * would be honoured for an admin), and another client copies on.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"

#define NOBODY	65534
#define DEV	"dma_skeleton0"
#define NEW_DEV "dma_skeleton7"
#define NREQ	(sizeof(admin_reqs) / sizeof(admin_reqs[0]))
#define NOPEN	(sizeof(open_reqs) / sizeof(open_reqs[0]))

struct req {
	const char *what;
	uint16_t type;
	uint32_t len;
	union {
		struct dmad_proto_dev_remove_req remove;
		struct dmad_proto_dev_add_req add;
		struct dmad_proto_dev_fault_req fault;
		uint32_t level[2];
	} body;
};

/* Read-only, for every client. */
static const struct req open_reqs[] = {
	{"STATUS", DMAD_PROTO_STATUS, 0, {.level = {0, 0}}},
	{"FLOWS", DMAD_PROTO_FLOWS, 0, {.level = {0, 0}}},
};

static const struct req admin_reqs[] = {
	{"DEV_REMOVE " DEV,
	 DMAD_PROTO_DEV_REMOVE,
	 sizeof(struct dmad_proto_dev_remove_req),
	 {.remove = {DEV, 100, 0}}},
	{"DEV_ADD " NEW_DEV,
	 DMAD_PROTO_DEV_ADD,
	 sizeof(struct dmad_proto_dev_add_req),
	 {.add = {NEW_DEV}}},
	{"DEV_FAULT " DEV " hang",
	 DMAD_PROTO_DEV_FAULT,
	 sizeof(struct dmad_proto_dev_fault_req),
	 {.fault = {DEV, DMAD_PROTO_FAULT_HANG, 0}}},
	{"LOG_LEVEL debug", DMAD_PROTO_LOG_LEVEL, 8, {.level = {7, 0}}},
};

/* Every request type, well formed, before HELLO: refused and without effect. */
static void check_before_hello(const char *socket)
{
	struct dmad_proto_region_reg_req reg = {.len = 4096};
	struct dmad_proto_chan_get_req get = {.caps = DMAD_PROTO_CAP_COPY};
	void *map;
	int fd = raw_connect(socket), memfd = raw_memfd(4096, true, &map), r;
	unsigned refused = 0, n = 0;

	if (fd < 0)
		tap_bail("connect: %s", strerror(-fd));
	r = raw_request(fd, DMAD_PROTO_REGION_REG, &reg, sizeof(reg), &memfd, 1, NULL);
	ok(r == -EPROTO, "REGION_REG before HELLO: %d (want %d)", r, -EPROTO);
	r = raw_request(fd, DMAD_PROTO_CHAN_GET, &get, sizeof(get), NULL, 0, NULL);
	ok(r == -EPROTO, "CHAN_GET before HELLO: %d (want %d)", r, -EPROTO);
	for (size_t i = 0; i < NREQ; i++, n++) {
		r = raw_request(fd, admin_reqs[i].type, &admin_reqs[i].body, admin_reqs[i].len,
				NULL, 0, NULL);
		if (r == -EPROTO)
			refused++;
		else
			tap_diag("%s before HELLO: %d", admin_reqs[i].what, r);
	}
	ok(refused == n, "every admin request before HELLO: -EPROTO (%u of %u)", refused, n);
	for (size_t i = 0; i < NOPEN; i++) {
		r = raw_request(fd, open_reqs[i].type, NULL, 0, NULL, 0, NULL);
		ok(r == -EPROTO, "%s before HELLO: %d (want %d)", open_reqs[i].what, r, -EPROTO);
	}
	ok(raw_hello(fd, "late") == 0, "HELLO afterwards is accepted");
	close(fd);
	close(memfd);
}

/* In a child that dropped to nobody: statuses of admin requests, copy rights, status. */
static void nobody_main(const char *socket, int out)
{
	struct dmad_proto_chan_get_req get = {.caps = DMAD_PROTO_CAP_COPY};
	int32_t st[NREQ + 2 + NOPEN];
	uint32_t id;
	void *map;
	int fd, memfd;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		_exit(2);
	fd = raw_connect(socket);
	if (fd < 0 || raw_hello(fd, "nobody") != 0)
		_exit(3);
	for (size_t i = 0; i < NREQ; i++)
		st[i] = raw_request(fd, admin_reqs[i].type, &admin_reqs[i].body, admin_reqs[i].len,
				    NULL, 0, NULL);
	memfd = raw_memfd(4096, true, &map);
	st[NREQ] = raw_region_reg(fd, memfd, 4096, &id);
	st[NREQ + 1] = raw_request(fd, DMAD_PROTO_CHAN_GET, &get, sizeof(get), NULL, 0, NULL);
	for (size_t i = 0; i < NOPEN; i++)
		st[NREQ + 2 + i] = raw_request(fd, open_reqs[i].type, NULL, 0, NULL, 0, NULL);
	_exit(write(out, st, sizeof(st)) == (ssize_t)sizeof(st) ? 0 : 4);
}

static void check_nobody(struct harness_dmad *d)
{
	int32_t st[NREQ + 2 + NOPEN];
	int p[2];
	pid_t pid;

	if (getuid() != 0) {
		ok(1, "requests from nobody # SKIP not root: cannot become nobody");
		return;
	}
	/* Let nobody reach the socket; the daemon gives it mode 0660. */
	if (chmod(d->dir, 0711) < 0 || chmod(d->socket, 0666) < 0 || pipe(p) < 0)
		tap_bail("opening the socket to nobody: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		close(p[0]);
		nobody_main(d->socket, p[1]);
	}
	close(p[1]);
	if (!ok(read(p[0], st, sizeof(st)) == (ssize_t)sizeof(st) &&
			harness_wait_child(pid, 20000, "client running as nobody"),
		"a client running as nobody connects and asks"))
		return;
	for (size_t i = 0; i < NREQ; i++)
		ok(st[i] == -EACCES, "%s from nobody: %d (want %d)", admin_reqs[i].what, st[i],
		   -EACCES);
	ok(st[NREQ] == 0 && st[NREQ + 1] == 0,
	   "nobody may still register a region (%d) and take a channel (%d)", st[NREQ],
	   st[NREQ + 1]);
	for (size_t i = 0; i < NOPEN; i++)
		ok(st[NREQ + 2 + i] == 0, "%s from nobody: %d (want 0: read-only, its own part)",
		   open_reqs[i].what, st[NREQ + 2 + i]);
	close(p[0]);
}

/* The admin requests were refused, not half done: devices as they were. */
static void check_devices(const char *socket)
{
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)"--json",
			(char *)"status",
			NULL};
	static char out[1 << 16];
	int r = harness_run(argv, out, sizeof(out), 10000);

	ok(r == 0 && strstr(out, "\"" DEV "\"") && !strstr(out, NEW_DEV) &&
		   !strstr(out, "DRAINING") && !strstr(out, "OFFLINE"),
	   "dmactl status (as root): %s online, %s never added (exit %d)", DEV, NEW_DEV, r);
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;

	harness_watchdog(120);
	d = harness_dmad_start("--fault-injection", NULL);
	bystander_start(&b, d->socket);
	check_before_hello(d->socket);
	check_nobody(d);
	/* A hang would be noticed by the watchdog within 100 ms: give it time. */
	usleep(300000);
	check_devices(d->socket);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
