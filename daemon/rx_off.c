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

int rx_open(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	(void)c, (void)h, (void)body;
	return -EOPNOTSUPP;
}

int rx_close(struct client *c, const struct dmad_proto_hdr *h, const void *body)
{
	(void)c, (void)h, (void)body;
	return -EOPNOTSUPP;
}

int rx_flows(struct client *c, const struct dmad_proto_hdr *h)
{
	(void)c, (void)h;
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

void rx_sweep(void)
{
}

struct chan *rx_next_chan(const struct chan *ch)
{
	(void)ch;
	return NULL;
}

void rx_shutdown(void)
{
}
