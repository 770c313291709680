/* SPDX-License-Identifier: MIT */
/*
 * dmactl's own small client of the control protocol: one connection, HELLO,
 * then requests answered one at a time. It links only libc, so dmactl works
 * without libdmaclient and can report exactly which step failed.
 */
#ifndef CTL_TRANSPORT_H
#define CTL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dmad_proto.h"

struct ctl_conn;

struct ctl_reply {
	int32_t status;	  /* the daemon's answer: 0 or -errno */
	uint32_t len;	  /* body bytes */
	const void *body; /* inside the connection, valid until the next call */
};

/*
 * ctl_connect() - connect to the control socket at @path.
 * Returns 0 with *ret_conn set, or the -errno of socket()/connect()
 * (-ENAMETOOLONG when @path does not fit a sockaddr_un, -ENOMEM).
 */
int ctl_connect(const char *path, struct ctl_conn **ret_conn);

/* ctl_close() - close the connection; accepts NULL. */
void ctl_close(struct ctl_conn *c);

/*
 * ctl_call() - send one request and wait up to @timeout_ms for its reply,
 * skipping events. Returns 0 with *ret_reply set when a well-formed reply
 * came, whatever its status; otherwise -ECONNRESET (the daemon closed the
 * connection), -ETIMEDOUT, -EPROTO (the daemon speaks another major
 * version), -EBADMSG (a malformed or unexpected message), -EMSGSIZE (a
 * message over DMAD_PROTO_MSG_MAX), or the -errno of a failed system call.
 */
int ctl_call(struct ctl_conn *c, uint16_t type, const void *req, uint32_t req_len, int timeout_ms,
	     struct ctl_reply *ret_reply);

/* ctl_fd() - the connection's socket, to poll for ctl_recv(). */
int ctl_fd(const struct ctl_conn *c);

/*
 * ctl_recv() - wait up to @timeout_ms for the next unsolicited message
 * (seq 0, not a reply), for a connection that only listens (MONITOR).
 * Returns 0 with *ret_type and *ret_msg set (the body, valid until the next
 * call), or the errors of ctl_call().
 */
int ctl_recv(struct ctl_conn *c, int timeout_ms, uint16_t *ret_type, struct ctl_reply *ret_msg);

/*
 * ctl_wait_event() - wait up to @timeout_ms for an event of @type (enum
 * dmad_proto_event_type), skipping others. Returns 0 with *@ret_event
 * set, or ctl_call()'s errors.
 */
int ctl_wait_event(struct ctl_conn *c, uint32_t type, int timeout_ms,
		   struct dmad_proto_event *ret_event);

#endif /* CTL_TRANSPORT_H */
