/* SPDX-License-Identifier: MIT */
/*
 * Receive offload left out of the build (-Drx=disabled, or no clang,
 * bpftool, libbpf or libxdp): every flow request is answered with
 * -EOPNOTSUPP, which tells a client "not in this dmad" rather than a
 * problem with its spec, its interface or its rights. Nothing else in
 * dmad changes: there is never a flow to close, reap or move.
 */
#include <errno.h>
#include <stddef.h>

#include "rx.h"

int rx_open(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)c, (void)rq, (void)rep;
	return -EOPNOTSUPP;
}

int rx_close(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)c, (void)rq, (void)rep;
	return -EOPNOTSUPP;
}

int rx_flows(struct client *c, const struct client_req *rq, struct client_rep *rep)
{
	(void)c, (void)rq, (void)rep;
	return -EOPNOTSUPP;
}

void rx_client_close(struct client *c)
{
	(void)c;
}

bool rx_reap(struct client *c)
{
	(void)c;
	return true;
}

void rx_drops_report(void)
{
}

void rx_sweep(void)
{
}

void rx_shutdown(void)
{
}
