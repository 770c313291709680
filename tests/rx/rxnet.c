/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "rxnet.h"

#define MAC	 "02:00:0a:c9:00:01"
#define PEER_MAC "02:00:0a:c9:00:02"

static int peer_ns = -1;

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

pid_t rxnet_peer_fork(void)
{
	pid_t pid = harness_fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setns(peer_ns, CLONE_NEWNET) < 0) {
			tap_diag("setns into the peer namespace: %s", strerror(errno));
			_exit(1);
		}
	}
	return pid;
}

static int run(char *const argv[], int timeout_ms, bool in_peer)
{
	pid_t pid = in_peer ? rxnet_peer_fork() : harness_fork();
	int64_t end = harness_now_ms() + timeout_ms;
	int status;
	pid_t r;

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Their output is no TAP: keep it off stdout. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "# cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && harness_now_ms() < end)
		sleep_us(2000);
	if (r != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -ETIMEDOUT;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int rxnet_peer_run(char *const argv[], int timeout_ms)
{
	return run(argv, timeout_ms, true);
}

int rxnet_run(char *const argv[], int timeout_ms)
{
	return run(argv, timeout_ms, false);
}

static void must(char *const argv[], bool in_peer)
{
	int r = run(argv, 10000, in_peer);

	if (r != 0) {
		char line[256] = "";

		for (int i = 0; argv[i]; i++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", argv[i]);
		tap_bail("network setup failed (status %d):%s", r, line);
	}
}

/* The peer namespace, held only by our fd once its first process is gone. */
static void make_peer(void)
{
	char path[64], ifargs[32];
	int pipefd[2];
	pid_t pid;
	char c;

	if (pipe(pipefd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1 || c != 'y')
		tap_bail("cannot create the peer network namespace");
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	peer_ns = open(path, O_RDONLY | O_CLOEXEC);
	if (peer_ns < 0)
		tap_bail("open %s: %s", path, strerror(errno));

	snprintf(ifargs, sizeof(ifargs), "%d", (int)pid);
	must((char *[]){"ip", "link", "add", RXNET_IF, "address", MAC, "type", "veth", "peer",
			"name", RXNET_PEER_IF, "address", PEER_MAC, "netns", ifargs, NULL},
	     false);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void rxnet_setup(void)
{
	if (geteuid() != 0)
		tap_skip_all("needs root: network namespaces, veth and XDP");
	if (unshare(CLONE_NEWNET) < 0)
		tap_skip_all("cannot create a network namespace: %s", strerror(errno));
	if (rxnet_run((char *[]){"ip", "link", "set", "lo", "up", NULL}, 10000) != 0)
		tap_skip_all("cannot run ip (iproute2)");
	make_peer();
	must((char *[]){"ip", "addr", "add", RXNET_ADDR "/24", "dev", RXNET_IF, NULL}, false);
	must((char *[]){"ip", "link", "set", RXNET_IF, "up", NULL}, false);
	must((char *[]){"ip", "neigh", "replace", RXNET_PEER_ADDR, "lladdr", PEER_MAC, "dev",
			RXNET_IF, "nud", "permanent", NULL},
	     false);
	must((char *[]){"ip", "addr", "add", RXNET_PEER_ADDR "/24", "dev", RXNET_PEER_IF, NULL},
	     true);
	must((char *[]){"ip", "link", "set", RXNET_PEER_IF, "up", NULL}, true);
	must((char *[]){"ip", "link", "set", "lo", "up", NULL}, true);
	must((char *[]){"ip", "neigh", "replace", RXNET_ADDR, "lladdr", MAC, "dev", RXNET_PEER_IF,
			"nud", "permanent", NULL},
	     true);
	/* IPv6 too, without duplicate address detection holding the addresses back. */
	must((char *[]){"ip", "-6", "addr", "add", RXNET_ADDR6 "/64", "dev", RXNET_IF, "nodad",
			NULL},
	     false);
	must((char *[]){"ip", "-6", "neigh", "replace", RXNET_PEER_ADDR6, "lladdr", PEER_MAC, "dev",
			RXNET_IF, "nud", "permanent", NULL},
	     false);
	must((char *[]){"ip", "-6", "addr", "add", RXNET_PEER_ADDR6 "/64", "dev", RXNET_PEER_IF,
			"nodad", NULL},
	     true);
	must((char *[]){"ip", "-6", "neigh", "replace", RXNET_ADDR6, "lladdr", MAC, "dev",
			RXNET_PEER_IF, "nud", "permanent", NULL},
	     true);
}

void rxnet_xdp_prog(char *name, size_t size)
{
	char out[4096] = "", *p;
	int pipefd[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = harness_fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execlp("ip", "ip", "-o", "link", "show", "dev", RXNET_IF, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < sizeof(out) - 1 && (n = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	close(pipefd[0]);
	waitpid(pid, NULL, 0);
	name[0] = '\0';
	/* "... prog/xdp id 126 name dmad_xdp_rx tag ..." */
	p = strstr(out, "prog/xdp");
	if (p && (p = strstr(p, " name ")))
		snprintf(name, size, "%.*s", (int)strcspn(p + 6, " \n\\"), p + 6);
}

void rxnet_set_mtu(unsigned mtu)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", mtu);
	must((char *[]){"ip", "link", "set", RXNET_IF, "mtu", v, NULL}, false);
	must((char *[]){"ip", "link", "set", RXNET_PEER_IF, "mtu", v, NULL}, true);
}

/* The "Udp:" counter @name of /proc/net/snmp: the reading process's namespace's. */
static uint64_t udp_counter(const char *name)
{
	FILE *f = fopen("/proc/net/snmp", "r");
	char hdr[1024], val[1024];
	uint64_t v = 0;

	while (f && fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		char *hs, *vs, *h = strtok_r(hdr, " \n", &hs), *x = strtok_r(val, " \n", &vs);

		if (strcmp(h, "Udp:"))
			continue;
		while ((h = strtok_r(NULL, " \n", &hs)) && (x = strtok_r(NULL, " \n", &vs)))
			if (!strcmp(h, name))
				v = strtoull(x, NULL, 10);
	}
	if (f)
		fclose(f);
	return v;
}

/* Field @col (0: received bytes) of @ifname's line in /proc/net/dev, as above. */
static uint64_t dev_counter(const char *ifname, unsigned col)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	uint64_t v = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line, *p;

		if (!colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (strcmp(name, ifname))
			continue;
		p = colon + 1;
		for (unsigned i = 0; i <= col; i++)
			v = strtoull(p, &p, 10);
	}
	if (f)
		fclose(f);
	return v;
}

/* What @fn says in the peer namespace, read there by a child. */
static uint64_t in_peer(uint64_t (*fn)(void))
{
	int pipefd[2];
	uint64_t v = 0;
	pid_t pid;

	if (pipe(pipefd) < 0)
		tap_bail("pipe: %s", strerror(errno));
	pid = rxnet_peer_fork();
	if (pid == 0) {
		v = fn();
		_exit(write(pipefd[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &v, sizeof(v)) != sizeof(v))
		tap_bail("cannot read the peer's counters");
	close(pipefd[0]);
	waitpid(pid, NULL, 0);
	return v;
}

static uint64_t udp_out(void)
{
	return udp_counter("OutDatagrams");
}

uint64_t rxnet_peer_udp_out(void)
{
	return in_peer(udp_out);
}

/* /proc/net/dev: column 11 is transmit drops. */
static uint64_t peer_tx_drops(void)
{
	return dev_counter(RXNET_PEER_IF, 11);
}

struct rxnet_drops rxnet_drops(void)
{
	return (struct rxnet_drops){
		.veth_tx = in_peer(peer_tx_drops),
		.udp_noports = udp_counter("NoPorts"),
		.udp_rcvbuf = udp_counter("RcvbufErrors"),
	};
}

static uint8_t pattern(uint32_t k, uint32_t i)
{
	return (uint8_t)(k * 31u + i * 7u + (i >> 8) + 1u);
}

void rxnet_payload(uint8_t *buf, uint32_t k, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = i < 4 ? (uint8_t)(k >> (8 * i)) : pattern(k, i);
}

bool rxnet_payload_ok(const uint8_t *buf, uint32_t k, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] != (i < 4 ? (uint8_t)(k >> (8 * i)) : pattern(k, i)))
			return false;
	return true;
}

static pid_t send_to(const struct sockaddr *to, socklen_t tolen, uint32_t n, const uint32_t *sizes,
		     unsigned nsizes, unsigned pace_us)
{
	pid_t pid = rxnet_peer_fork();
	static uint8_t buf[65536];
	int fd;

	if (pid)
		return pid;
	fd = socket(to->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		_exit(1);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t len = sizes[k % nsizes];

		rxnet_payload(buf, k, len);
		if (sendto(fd, buf, len, 0, to, tolen) != (ssize_t)len) {
			fprintf(stderr, "# sender: datagram %u: %s\n", k, strerror(errno));
			_exit(1);
		}
		if (pace_us && k % 16 == 15)
			sleep_us(pace_us);
	}
	_exit(0);
}

pid_t rxnet_send(uint16_t port, uint32_t n, const uint32_t *sizes, unsigned nsizes,
		 unsigned pace_us)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, RXNET_ADDR, &to.sin_addr);
	return send_to((struct sockaddr *)&to, sizeof(to), n, sizes, nsizes, pace_us);
}

pid_t rxnet_send6(uint16_t port, uint32_t n, const uint32_t *sizes, unsigned nsizes,
		  unsigned pace_us)
{
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	inet_pton(AF_INET6, RXNET_ADDR6, &to.sin6_addr);
	return send_to((struct sockaddr *)&to, sizeof(to), n, sizes, nsizes, pace_us);
}

struct rxnet_seen rxnet_receive(struct dmac_rx *rx, uint32_t k0, uint32_t n, uint32_t seq0,
				const uint32_t *sizes, unsigned nsizes, int idle_ms)
{
	struct rxnet_seen s = {0};
	int64_t last = harness_now_ms();

	while (s.packets < n) {
		struct dmac_rx_pkt p[32];
		/* No further than @n: what follows is the next caller's to check. */
		int got = dmac_rx_peek(rx, p, n - s.packets < 32 ? n - s.packets : 32);

		if (got < 0) {
			tap_diag("dmac_rx_peek: %s", strerror(-got));
			break;
		}
		if (got == 0) {
			/* The empty peek armed the eventfd: sleep until the daemon signals. */
			struct pollfd pfd = {.fd = dmac_rx_fd(rx), .events = POLLIN};
			int left = (int)(last + idle_ms - harness_now_ms());

			if (left <= 0 || poll(&pfd, 1, left) < 0)
				break;
			continue;
		}
		for (int i = 0; i < got; i++) {
			uint32_t k = k0 + s.packets, len = sizes[k % nsizes], first = UINT32_MAX;

			if (p[i].len >= 4)
				memcpy(&first, p[i].data, 4);
			if (p[i].seq != seq0 + k || (p[i].len >= 4 && first != k)) {
				if (!s.bad_seq)
					tap_diag("datagram %u came as flow seq %u", k, p[i].seq);
				s.bad_seq++;
			}
			if (p[i].len != len)
				s.bad_len++;
			else if (!rxnet_payload_ok(p[i].data, k, len))
				s.bad_payload++;
			s.packets++;
			s.bytes += p[i].len;
		}
		dmac_rx_release(rx, (unsigned)got);
		last = harness_now_ms();
	}
	return s;
}

struct dmac_rx_spec rxnet_spec(uint16_t port, uint32_t slot_size, uint32_t slot_count)
{
	return (struct dmac_rx_spec){
		.ifname = RXNET_IF,
		.queue = 0,
		.proto = DMAC_RX_UDP,
		.port = port,
		.slot_size = slot_size,
		.slot_count = slot_count,
	};
}
