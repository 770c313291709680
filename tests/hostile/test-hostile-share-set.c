/* SPDX-License-Identifier: MIT */
/*
 * Setting a client's share is for admins, and bad settings are refused
 * clearly: `dmactl set` with an unknown client, a weight of 0 or past
 * 10000, garbage for a number or a setting (usage, exit 2; dmad's refusal,
 * exit 1); SHARE_SET requests built by hand with each field wrong get their
 * one errno each; a client that is not an admin gets -EACCES (dmactl: exit
 * 4) and sees only its own share. None of it changes what was set.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "asuser.h"
#include "harness.h"
#include "rawproto.h"
#include "stream.h"

#define TARGET "share-target"

static int dmactl(const char *socket, const struct asuser *u, const char *who, const char *what,
		  const char *value)
{
	char out[4096];
	char *argv[] = {(char *)harness_env("DMACTL_BIN"),
			(char *)"--socket",
			(char *)socket,
			(char *)"set",
			(char *)who,
			(char *)what,
			(char *)value,
			NULL};

	return u ? asuser_run(u, argv, out, sizeof(out), 15000)
		 : harness_run(argv, out, sizeof(out), 15000);
}

static int32_t set_raw(int fd, uint32_t scope, uint32_t id, uint32_t what, uint64_t value,
		       uint32_t rsvd)
{
	struct dmad_proto_share_set_req req = {scope, id, what, rsvd, value};

	return raw_request(fd, DMAD_PROTO_SHARE_SET, &req, sizeof(req), NULL, 0, NULL);
}

/* The weight SHARES reports for client @id over @fd, or 0; @ret_flags its flags. */
static uint32_t shared_weight(int fd, uint32_t id, uint32_t *ret_clients, uint32_t *ret_flags)
{
	static struct raw_msg m;
	const struct dmad_proto_shares *h = (const void *)m.body;
	const struct dmad_proto_share_client *c = (const void *)(h + 1);
	uint32_t w = 0;

	*ret_clients = *ret_flags = 0;
	if (raw_request(fd, DMAD_PROTO_SHARES, NULL, 0, NULL, 0, &m) != 0 ||
	    m.body_len < sizeof(*h) || m.body_len < sizeof(*h) + h->nclient * sizeof(*c))
		return 0;
	*ret_clients = h->nclient;
	*ret_flags = h->flags;
	for (uint32_t i = 0; i < h->nclient; i++)
		if (c[i].client_id == id)
			w = c[i].weight;
	return w;
}

/* As nobody: SHARE_SET refused, SHARES only its own. Reports through @out. */
static void nobody_main(const char *socket, uint32_t target, int out)
{
	int32_t res[3] = {-1, -1, -1};
	uint32_t n, flags;
	int fd = raw_connect(socket);

	if (fd < 0 || raw_hello(fd, "nobody") != 0)
		_exit(3);
	res[0] = set_raw(fd, DMAD_PROTO_SHARE_CLIENT, target, DMAD_PROTO_SHARE_WEIGHT, 10000, 0);
	res[1] = shared_weight(fd, target, &n, &flags) == 0 && n == 1;
	res[2] = !!(flags & DMAD_PROTO_LIST_OWN_ONLY);
	_exit(write(out, res, sizeof(res)) == (ssize_t)sizeof(res) ? 0 : 4);
}

int main(void)
{
	const struct asuser nobody = {"nobody", ASUSER_NOBODY, ASUSER_NOBODY, 0, {0}};
	struct harness_dmad *d;
	struct raw_chan ch;
	uint32_t id, n, flags;
	int32_t res[3] = {0};
	int fd, pipefd[2], r;
	char sid[16];
	long cid;
	pid_t pid;

	if (geteuid() != 0)
		tap_skip_all("needs root to act as another user");
	harness_watchdog(120);
	d = harness_dmad_start(NULL);
	asuser_open_socket(d);
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, TARGET) != 0 || raw_chan_get(fd, DMAD_PROTO_CAP_COPY, &ch) != 0)
		tap_bail("a client with a channel on %s", d->socket);
	cid = sharing_client_id(d->socket, TARGET);
	if (!ok(cid > 0, "the client's id (%ld)", cid))
		return tap_done();
	id = (uint32_t)cid;
	snprintf(sid, sizeof(sid), "%u", id);

	ok(dmactl(d->socket, NULL, sid, "weight", "200") == 0, "dmactl set %s weight 200", sid);
	ok(dmactl(d->socket, NULL, "99999", "weight", "5") == 1, "unknown client: exit 1");
	ok(dmactl(d->socket, NULL, "uid=70000", "weight", "5") == 0,
	   "a uid with no client yet may have a default");
	ok(dmactl(d->socket, NULL, sid, "weight", "0") == 2, "weight 0: usage, exit 2");
	ok(dmactl(d->socket, NULL, sid, "weight", "10001") == 2, "weight 10001: exit 2");
	ok(dmactl(d->socket, NULL, sid, "weight", "99999999999999999999999") == 2,
	   "a weight past 64 bits: exit 2");
	ok(dmactl(d->socket, NULL, sid, "weight", "12abc") == 2, "weight 12abc: exit 2");
	ok(dmactl(d->socket, NULL, sid, "weight", "-3") == 2, "weight -3: exit 2");
	ok(dmactl(d->socket, NULL, sid, "rate", "12Q") == 2, "rate 12Q: exit 2");
	ok(dmactl(d->socket, NULL, sid, "rate", "99999999T") == 2, "rate past 64 bits: exit 2");
	ok(dmactl(d->socket, NULL, sid, "rate", "2000000T") == 1,
	   "a rate past what dmad takes: refused, exit 1");
	ok(dmactl(d->socket, NULL, "abc", "weight", "5") == 2, "client abc: exit 2");
	ok(dmactl(d->socket, NULL, sid, "colour", "5") == 2, "setting colour: exit 2");

	ok(set_raw(fd, DMAD_PROTO_SHARE_CLIENT, id, DMAD_PROTO_SHARE_WEIGHT, 0, 0) == -ERANGE,
	   "SHARE_SET weight 0: -ERANGE");
	ok(set_raw(fd, DMAD_PROTO_SHARE_CLIENT, id, DMAD_PROTO_SHARE_WEIGHT, UINT64_MAX, 0) ==
		   -ERANGE,
	   "SHARE_SET weight 2^64-1: -ERANGE");
	ok(set_raw(fd, DMAD_PROTO_SHARE_CLIENT, id, DMAD_PROTO_SHARE_RATE, UINT64_MAX, 0) ==
		   -ERANGE,
	   "SHARE_SET rate 2^64-1: -ERANGE");
	ok(set_raw(fd, DMAD_PROTO_SHARE_CLIENT, id, 9, 5, 0) == -EINVAL,
	   "unknown setting: -EINVAL");
	ok(set_raw(fd, 9, id, DMAD_PROTO_SHARE_WEIGHT, 5, 0) == -EINVAL, "unknown scope: -EINVAL");
	ok(set_raw(fd, DMAD_PROTO_SHARE_CLIENT, id, DMAD_PROTO_SHARE_WEIGHT, 5, 1) == -EBADMSG,
	   "reserved field set: -EBADMSG");
	ok(set_raw(fd, DMAD_PROTO_SHARE_CLIENT, 99999, DMAD_PROTO_SHARE_WEIGHT, 5, 0) == -ESRCH,
	   "unknown client: -ESRCH");
	r = raw_request(fd, DMAD_PROTO_SHARE_SET, "short", 5, NULL, 0, NULL);
	ok(r == -EBADMSG, "a short SHARE_SET: -EBADMSG (%d)", r);

	if (pipe(pipefd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = asuser_fork(&nobody);
	if (pid == 0) {
		close(pipefd[0]);
		nobody_main(d->socket, id, pipefd[1]);
	}
	close(pipefd[1]);
	r = harness_wait_child(pid, 15000, "the client as nobody") &&
	    read(pipefd[0], res, sizeof(res)) == (ssize_t)sizeof(res);
	close(pipefd[0]);
	ok(r && res[0] == -EACCES, "as nobody: SHARE_SET is refused (%d, want %d)", res[0],
	   -EACCES);
	ok(r && res[1] && res[2], "as nobody: SHARES shows its own client only, flagged own-only");
	r = dmactl(d->socket, &nobody, sid, "weight", "10000");
	if (r == -ENOENT)
		tap_skip("dmactl as nobody: setpriv is not installed");
	else
		ok(r == 4, "dmactl set as nobody: exit 4 (%d)", r);

	ok(shared_weight(fd, id, &n, &flags) == 200 && n >= 1 &&
		   !(flags & DMAD_PROTO_LIST_OWN_ONLY),
	   "the weight is still 200 and an admin sees every client");
	ok(harness_dmad_alive(d), "dmad still runs");
	raw_chan_unmap(&ch);
	close(fd);
	harness_dmad_finish(d);
	return tap_done();
}
