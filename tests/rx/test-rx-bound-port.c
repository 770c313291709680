/* SPDX-License-Identifier: MIT */
/*
 * A flow takes its datagrams before the kernel's stack sees them, so a flow
 * on a port that a socket has bound takes that socket's traffic. As bind()
 * would, dmad refuses a client that is not an admin a port some socket has
 * bound (-EADDRINUSE), whoever's it is: user nobody asking for the port of
 * a service that root runs used to get the flow, and every datagram sent to
 * the service went to nobody. The service gets them all; an admin may still
 * take a bound port, and nobody may take one that no socket has.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "asuser.h"
#include "harness.h"
#include "rxnet.h"

#define PORT	7601
#define FREE	7602
#define N	16
#define LEN	100
#define WAIT_MS 3000

static const struct asuser nobody = {"nobody, no groups", ASUSER_NOBODY, ASUSER_NOBODY, 0, {0}};

/* dmac_rx_open() of @port as nobody, in a child (*@ret_pid): its result.
 * The flow, if any, stays open until @hold[1] is closed. */
static int open_as_nobody(const char *socket, uint16_t port, const int hold[2], pid_t *ret_pid)
{
	int p[2], r = -EIO;
	pid_t pid;

	if (pipe(p) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = asuser_fork(&nobody);
	if (pid == 0) {
		struct dmac_rx_spec spec = rxnet_spec(port, 2048, 64);
		struct dmac_client *c;
		struct dmac_rx *rx;
		char b;

		close(hold[1]);
		r = dmac_connect(socket, "nobody-rx", &c);
		if (r == 0)
			r = dmac_rx_open(c, &spec, &rx);
		(void)!write(p[1], &r, sizeof(r));
		(void)!read(hold[0], &b, 1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &r, sizeof(r)) != sizeof(r))
		r = -EIO;
	close(p[0]);
	close(hold[0]);
	*ret_pid = pid;
	return r;
}

/* The datagrams @fd gets within WAIT_MS of the last. */
static unsigned received(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint8_t buf[2048];
	unsigned n = 0;

	while (n < N && poll(&p, 1, WAIT_MS) > 0)
		if (recv(fd, buf, sizeof(buf), 0) == LEN && rxnet_payload_ok(buf, n, LEN))
			n++;
	return n;
}

int main(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	const uint32_t len = LEN;
	struct harness_dmad *d;
	struct dmac_client *c;
	struct dmac_rx *rx;
	struct dmac_rx_spec spec = rxnet_spec(PORT, 2048, 64);
	int svc, hold[2], r;
	pid_t pid;

	harness_watchdog(90);
	rxnet_setup();
	d = harness_dmad_start("--copybreak", "0", NULL);
	asuser_open_socket(d);
	svc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (svc < 0 || bind(svc, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		tap_bail("a service on udp port %d: %s", PORT, strerror(errno));
	if (pipe(hold) < 0)
		tap_bail("pipe: %s", strerror(errno));

	r = open_as_nobody(d->socket, PORT, hold, &pid);
	ok(r == -EADDRINUSE, "nobody asks for root's service's port: %s (want %s)", strerror(-r),
	   strerror(EADDRINUSE));
	harness_wait_child(rxnet_send(PORT, N, &len, 1, 1000), 10000, "sender");
	r = (int)received(svc);
	ok(r == N, "the service got all %d datagrams sent to it (%d)", N, r);
	close(hold[1]);
	harness_wait_child(pid, 10000, "nobody's client");

	if (pipe(hold) < 0)
		tap_bail("pipe: %s", strerror(errno));
	r = open_as_nobody(d->socket, FREE, hold, &pid);
	ok(r == 0, "nobody may take a port no socket has bound: %s", strerror(-r));
	close(hold[1]);
	harness_wait_child(pid, 10000, "nobody's client");

	r = dmac_connect(d->socket, "root-rx", &c);
	if (r == 0)
		r = dmac_rx_open(c, &spec, &rx);
	ok(r == 0, "an admin may take the bound port: %s", strerror(-r));
	if (r == 0) {
		dmac_rx_close(rx);
		dmac_disconnect(c);
	}
	close(svc);
	ok(harness_dmad_alive(d), "dmad still runs");
	harness_dmad_finish(d);
	return tap_done();
}
