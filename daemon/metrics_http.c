/* SPDX-License-Identifier: MIT */
/*
 * A scraper's connection: read the request (at most REQ_MAX bytes, up to
 * its blank line), answer, close; HTTP/1.0 with Connection: close, so there
 * is never a second request to wait for. The answer is rendered whole
 * into memory first and then sent as the socket takes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "control.h"
#include "log.h"
#include "metrics_http.h"
#include "openmetrics.h"
#include "status.h"

#define REQ_MAX	  2048
#define CONNS_MAX 16
#define SCRAPE_MS 5000

struct conn {
	struct control_watch w; /* first: the watch is the connection */
	int fd;
	bool closing; /* cut off: freed when its watch fires */
	uint64_t start_ms;
	char *out;
	size_t out_len, out_off;
	size_t req_len;
	char req[REQ_MAX];
	struct conn *next;
};

static struct {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix: to unlink */
	bool paused;						/* out of fds: retry at the tick */
	struct control_watch accept;
	struct conn *conns;
	unsigned nconns;
} srv = {.fd = -1};

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-EINVAL, "--metrics-listen unix:PATH: bad path '%s'", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "metrics socket: %m");
	/* A stale file from a dmad that died; a live one refuses our connect. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return log_error_errno(-EADDRINUSE, "something already serves metrics at %s", path);
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = log_error_errno(-errno, "cannot bind metrics to %s: %m", path);

		close(fd);
		return ret;
	}
	/* The text names every client: for dmad's user and the admin group. */
	if (dmad.cfg.admin_gid_valid && chown(path, (uid_t)-1, dmad.cfg.admin_gid) == 0)
		chmod(path, 0660);
	else
		chmod(path, 0600);
	snprintf(srv.path, sizeof(srv.path), "%s", path);
	return fd;
}

/* "127.0.0.1:9400", "[::1]:9400": loopback only, or -EINVAL. */
static int parse_loopback(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(spec, ':');
	char host[64], *end;
	unsigned long port;

	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port == 0 || port > 65535 || colon[1] == '0')
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1 ||
		    !IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1 ||
		    (ntohl(a->sin_addr.s_addr) >> 24) != 127)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

static int listen_tcp(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (parse_loopback(spec, &ss, &len) < 0)
		return log_error_errno(
			-EINVAL,
			"--metrics-listen takes unix:PATH, 127.0.0.1:PORT or "
			"[::1]:PORT, not '%s': the metrics name every client, so "
			"dmad serves them on this host only (put a proxy in front to "
			"export them)",
			spec);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "metrics socket: %m");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int ret = log_error_errno(-errno, "cannot bind metrics to %s: %m", spec);

		close(fd);
		return ret;
	}
	return fd;
}

int metrics_listen(const char *spec)
{
	int fd = !strncmp(spec, "unix:", 5) ? listen_unix(spec + 5) : listen_tcp(spec);

	if (fd < 0)
		return fd;
	if (listen(fd, 16) < 0) {
		int ret = log_error_errno(-errno, "cannot listen for metrics on %s: %m", spec);

		close(fd);
		return ret;
	}
	srv.fd = fd;
	log_info("metrics (OpenMetrics) at http://%s/metrics", spec);
	return 0;
}

/* The counters as an admin's STATUS shows them, rendered; NULL when out of memory. */
static char *render(size_t *ret_len)
{
	static uint8_t body[DMAD_PROTO_MSG_MAX - sizeof(struct dmad_proto_hdr)];
	uint32_t n = status_build_all(body, sizeof(body));
	struct status_reply s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (status_reply_parse(body, n, &s) < 0)
		return NULL;
	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	if (om_render(f, &s) < 0 || fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*ret_len = len;
	return text;
}

static void conn_free(struct conn *c)
{
	struct conn **pp = &srv.conns;

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	srv.nconns--;
	close(c->fd);
	free(c->out);
	free(c);
}

/* What the request line asks for: a status line and a body, into c->out. */
static void respond(struct conn *c)
{
	char method[8] = "", target[64] = "", *body = NULL;
	const char *status = "200 OK", *type = OM_CONTENT_TYPE;
	size_t blen = 0;
	FILE *f;

	c->req[c->req_len < REQ_MAX ? c->req_len : REQ_MAX - 1] = '\0';
	if (sscanf(c->req, "%7s %63s HTTP/1.", method, target) != 2) {
		status = "400 Bad Request";
	} else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = "405 Method Not Allowed";
	} else {
		target[strcspn(target, "?")] = '\0';
		if (strcmp(target, "/metrics"))
			status = "404 Not Found";
		else if (!(body = render(&blen)))
			status = "500 Internal Server Error";
	}
	if (strncmp(status, "200", 3))
		type = "text/plain; charset=utf-8";
	f = open_memstream(&c->out, &c->out_len);
	if (f) {
		const char *text = body ? body : status;
		size_t tlen = body ? blen : strlen(status);

		fprintf(f,
			"HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n",
			status, type, tlen + !body);
		if (strcmp(method, "HEAD")) {
			fwrite(text, 1, tlen, f);
			if (!body)
				fputc('\n', f);
		}
		if (fclose(f) != 0) {
			free(c->out);
			c->out = NULL;
		}
	}
	free(body);
	c->out_off = 0;
}

static void on_conn(struct control_watch *w, int res)
{
	struct conn *c = (struct conn *)w;
	ssize_t n;

	if (c->closing || res < 0) {
		conn_free(c);
		return;
	}
	if (!c->out) {
		n = recv(c->fd, c->req + c->req_len, REQ_MAX - 1 - c->req_len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_free(c);
			return;
		}
		if (n > 0)
			c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		/* memmem: a NUL in the request must not hide its end (it is then a 4xx). */
		if (!memmem(c->req, c->req_len, "\r\n\r\n", 4) &&
		    !memmem(c->req, c->req_len, "\n\n", 2) && c->req_len < REQ_MAX - 1) {
			control_watch(c->fd, POLLIN, &c->w);
			return;
		}
		respond(c);
		if (!c->out) {
			conn_free(c);
			return;
		}
	}
	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		conn_free(c);
		return;
	}
	if (n > 0)
		c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		conn_free(c);
		return;
	}
	control_watch(c->fd, POLLOUT, &c->w);
}

static void on_accept(struct control_watch *w, int res)
{
	(void)w, (void)res;
	for (;;) {
		int fd = accept4(srv.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			/* Out of fds, the listener stays readable: wait for the tick. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				srv.paused = true;
				return;
			}
			break;
		}
		c = srv.nconns < CONNS_MAX ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd); /* a scraper too many: it retries at its next interval */
			continue;
		}
		*c = (struct conn){.w = {on_conn}, .fd = fd, .start_ms = client_now_ms()};
		c->next = srv.conns;
		srv.conns = c;
		srv.nconns++;
		control_watch(fd, POLLIN, &c->w);
	}
	control_watch(srv.fd, POLLIN, &srv.accept);
}

void metrics_start(void)
{
	if (srv.fd < 0)
		return;
	srv.accept.fn = on_accept;
	control_watch(srv.fd, POLLIN, &srv.accept);
}

void metrics_tick(void)
{
	uint64_t now = client_now_ms();

	if (srv.paused) {
		srv.paused = false;
		control_watch(srv.fd, POLLIN, &srv.accept);
	}
	/* Its watch fires on the shutdown, and frees it. */
	for (struct conn *c = srv.conns; c; c = c->next) {
		if (!c->closing && now - c->start_ms > SCRAPE_MS) {
			c->closing = true;
			shutdown(c->fd, SHUT_RDWR);
		}
	}
}

void metrics_shutdown(void)
{
	while (srv.conns)
		conn_free(srv.conns);
	if (srv.fd >= 0)
		close(srv.fd);
	srv.fd = -1;
	if (srv.path[0])
		unlink(srv.path);
}
