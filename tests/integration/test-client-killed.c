/* SPDX-License-Identifier: MIT */
/*
 * A client killed with SIGKILL in the middle of large copies: the daemon
 * reclaims it without disturbing anyone else. Another client copies and
 * verifies all along; afterwards the daemon is up, a new client can copy,
 * and `dmactl status` no longer lists the dead one.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "jsonread.h"

#define VICTIMS	   3
#define REGION_LEN (16u << 20)
#define CHUNK	   (1u << 20)
#define GONE_MS	   10000

/* Copies 1 MiB chunks as fast as it can until killed; says when it is busy. */
static void victim_main(const char *socket, int ready_fd)
{
	struct dmac_client *c;
	struct dmac_chan *ch;
	uint8_t *src, *dst;
	int64_t end = harness_now_ms() + 60000;
	unsigned int n = 0;

	if (dmac_connect(socket, "victim", &c) < 0)
		_exit(1);
	src = dmac_region_alloc(c, REGION_LEN);
	dst = dmac_region_alloc(c, REGION_LEN);
	if (!src || !dst || dmac_chan_get(c, DMAC_CAP_COPY, &ch) < 0)
		_exit(1);
	dmac_chan_set_copybreak(ch, 0);
	memset(src, 0x5a, REGION_LEN);
	while (harness_now_ms() < end) {
		size_t off = (size_t)(n % (REGION_LEN / CHUNK)) * CHUNK;
		dmac_cookie_t r = dmac_memcpy(ch, dst + off, src + off, CHUNK, 0);

		if (r == -EAGAIN) {
			dmac_issue_pending(ch);
			continue;
		}
		if (r < 0)
			_exit(1);
		dmac_issue_pending(ch);
		if (++n == 64 && write(ready_fd, "x", 1) != 1)
			_exit(1);
	}
	_exit(1);
}

static bool kill_victim(const char *socket, unsigned int i)
{
	struct pollfd p;
	int fds[2], status;
	char byte;
	pid_t pid;

	if (pipe(fds) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		close(fds[0]);
		victim_main(socket, fds[1]);
	}
	close(fds[1]);
	p = (struct pollfd){.fd = fds[0], .events = POLLIN};
	if (!ok(poll(&p, 1, 20000) == 1 && read(fds[0], &byte, 1) == 1,
		"victim %u: 64 MiB of copies submitted", i)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(fds[0]);
		return false;
	}
	close(fds[0]);
	usleep(50000);
	kill(pid, SIGKILL);
	return ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
			  WTERMSIG(status) == SIGKILL,
		  "victim %u SIGKILLed with copies in flight", i);
}

/* How many records of @list in @root are named @name. */
static unsigned named(const struct jv *root, const char *list, const char *name)
{
	const struct jv *a = jv_get(root, list);
	unsigned n = 0;

	for (size_t i = 0; a && i < a->n; i++)
		n += !strcmp(jv_str(jv_get(jv_at(a, i), "name"), ""), name);
	return n;
}

/*
 * Poll `dmactl --json status` until no live client is named "victim": each
 * is then among the clients that went, with what it had copied.
 */
static void check_status(const char *socket)
{
	int64_t end = harness_now_ms() + GONE_MS;
	unsigned victims = 0, gone = 0, bystanders = 0;
	bool read = false;

	do {
		struct jv *v = harness_status_json(socket);

		read = v != NULL;
		if (v) {
			victims = named(v, "clients", "victim");
			bystanders = named(v, "clients", "bystander");
			gone = named(v, "gone_clients", "victim");
			jv_free(v);
		}
		/* A victim is recorded once what it had in flight retired. */
		if (read && !victims && bystanders == 1 && gone == VICTIMS)
			break;
		usleep(100000);
	} while (harness_now_ms() < end);
	ok(read && !victims && bystanders == 1,
	   "dmactl status lists the bystander and no victim within %d ms (%u, %u)", GONE_MS,
	   bystanders, victims);
	ok(gone == VICTIMS, "and the %u victims among the clients that went (%u)", VICTIMS, gone);
}

int main(void)
{
	struct harness_dmad *d;
	struct bystander b;
	struct copier k;
	unsigned int i;
	int r;

	harness_watchdog(180);
	d = harness_dmad_start(NULL);
	bystander_start(&b, d->socket);
	for (i = 0; i < VICTIMS; i++)
		if (!kill_victim(d->socket, i))
			break;
	ok(harness_dmad_alive(d), "dmad survives its clients being killed");
	check_status(d->socket);

	r = copier_init(&k, d->socket, "after-kill", 1 << 20, 4 << 20, 256 << 10, 9);
	if (r == 0) {
		dmac_chan_set_copybreak(k.ch, 0);
		for (i = 0; i < 10 && r == 0; i++)
			r = copier_round(&k, 32);
	}
	ok(r == 0, "a new client connects and copies correctly afterwards (%d)", r);
	copier_fini(&k);
	ok(bystander_stop(&b), "the bystander's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
