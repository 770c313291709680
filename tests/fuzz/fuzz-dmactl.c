/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: dmactl as a whole, its command line and its reading of
 * whatever a daemon answers. dmactl's main() runs in-process (built with
 * -Dmain=dmactl_main); its connection is redirected (ld --wrap=ctl_connect)
 * to a socket this harness has already filled with the fuzzed replies and
 * half-closed, so dmactl reads them, then end of file, and never waits.
 *
 * Checked: no crash, no leak, no fd left open, an exit status from the
 * documented set.
 *
 * Input: dmactl's arguments, each NUL-terminated, ended by an empty one;
 * then records of {flags, 2-byte length, message}. flags bit 0: fix the
 * header up as a proper reply (magic, version, length, type and seq of the
 * request it answers: the first record HELLO, the rest the command's);
 * bit 1: make it an event instead.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dmad_proto.h"
#include "transport.h"

#define MAX_ARGS  12
#define MAX_REPLY (DMAD_PROTO_MSG_MAX + 64)

int dmactl_main(int argc, char **argv);
int __real_ctl_connect(const char *path, struct ctl_conn **ret_conn);

static char sock_dir[] = "/tmp/fuzz-dmactl.XXXXXX", sock_path[64];
static int listen_fd = -1, server_fd = -1;
static const uint8_t *replies;
static size_t replies_len;
static uint16_t request_type, next_type;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void remove_socket(void)
{
	unlink(sock_path);
	rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	(void)argc, (void)argv;
	/* Tables and JSON are dmactl's business; the harness checks its status. */
	if (!freopen("/dev/null", "w", stdout) || !mkdtemp(sock_dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/s", sock_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 4) < 0)
		abort();
	atexit(remove_socket);
	return 0;
}

static void send_replies(int fd)
{
	const uint8_t *p = replies;
	size_t n = replies_len;
	static uint8_t msg[MAX_REPLY];
	unsigned idx = 0;

	while (n >= 3) {
		unsigned flags = p[0];
		size_t len = (size_t)p[1] | (size_t)p[2] << 8;

		p += 3;
		n -= 3;
		len = len < n ? len : n;
		memcpy(msg, p, len);
		p += len;
		n -= len;
		if ((flags & 3) && len >= sizeof(struct dmad_proto_hdr)) {
			struct dmad_proto_hdr h;

			memcpy(&h, msg, sizeof(h));
			h.magic = DMAD_PROTO_MAGIC;
			h.major = DMAD_PROTO_VERSION_MAJOR;
			h.len = (uint32_t)(len - sizeof(h));
			if (flags & 2) {
				h.type = DMAD_PROTO_EVENT;
				h.seq = 0;
				h.flags = 0;
			} else {
				/* dmactl numbers its requests from 1: HELLO, then the command. */
				h.type = idx == 0 ? DMAD_PROTO_HELLO : request_type;
				h.seq = idx == 0 ? 1 : 2;
				h.flags = DMAD_PROTO_F_REPLY;
				idx++;
			}
			memcpy(msg, &h, sizeof(h));
		}
		/* Whatever does not fit the socket's buffer is simply never sent. */
		if (send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	}
}

/* dmactl's connection: to our socket, whatever path it was given. A
 * command that makes more than one (status: STATUS, then SHARES) gets the
 * same replies on each, fixed up for the request it sends there. */
int __wrap_ctl_connect(const char *path, struct ctl_conn **ret_conn)
{
	int r;

	(void)path;
	r = __real_ctl_connect(sock_path, ret_conn);
	if (r < 0)
		abort();
	if (server_fd >= 0) {
		close(server_fd);
		request_type = next_type;
	}
	server_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (server_fd < 0)
		abort();
	send_replies(server_fd);
	shutdown(server_fd, SHUT_WR);
	return r;
}

/* The request each command sends, so that fixed-up replies answer it. */
static uint16_t type_of(const char *command)
{
	static const struct {
		const char *name;
		uint16_t type;
	} commands[] = {
		{"status", DMAD_PROTO_STATUS},	     {"clients", DMAD_PROTO_STATUS},
		{"remove", DMAD_PROTO_DEV_REMOVE},   {"add", DMAD_PROTO_DEV_ADD},
		{"fault", DMAD_PROTO_DEV_FAULT},     {"flows", DMAD_PROTO_FLOWS},
		{"log-level", DMAD_PROTO_LOG_LEVEL}, {"reset-failed", DMAD_PROTO_RESET_FAILED},
		{"set", DMAD_PROTO_SHARE_SET},
	};

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(command, commands[i].name))
			return commands[i].type;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[4096];
	char *argv[MAX_ARGS + 2] = {"dmactl"};
	int argc = 1, fds_before = count_fds(), r;
	unsigned operands = 0;
	size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1, i = 0;

	/* Arguments first: NUL-terminated strings up to an empty one. */
	memcpy(buf, data, n);
	buf[n] = '\0';
	request_type = next_type = 0;
	while (i < n && buf[i] && argc <= MAX_ARGS) {
		argv[argc] = buf + i;
		if (!request_type) {
			request_type = type_of(argv[argc]);
			/* status asks SHARES on a second connection; clients does not. */
			next_type = strcmp(argv[argc], "status") ? 0 : DMAD_PROTO_SHARES;
		} else if (argv[argc][0] != '-')
			operands++;
		argc++;
		i += strlen(buf + i) + 1;
	}
	/* log-level sets the level given one, and asks STATUS for it without. */
	if (request_type == DMAD_PROTO_LOG_LEVEL && !operands)
		request_type = DMAD_PROTO_STATUS;
	argv[argc] = NULL;
	i = i < n ? i + 1 : n;
	replies = data + i;
	replies_len = size - i;

	optind = 0; /* getopt starts afresh for every run */
	r = dmactl_main(argc, argv);
	if (server_fd >= 0) {
		close(server_fd);
		server_fd = -1;
	}
	if (r < 0 || r > 4 || count_fds() != fds_before)
		abort();
	return 0;
}
