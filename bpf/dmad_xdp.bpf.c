// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * dmad's receive filter, one instance per interface: a UDP datagram whose
 * destination port has a flow goes to the AF_XDP socket of the queue it
 * arrived on; everything else goes on to the kernel's stack untouched.
 *
 * IPv4 fragments pass (only the first carries the port, and the kernel
 * reassembles), as do IP options' worth of oddities the parser does not
 * know: a flow gets only what the daemon can strip to the payload.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dmad_rx.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DMAD_RX_MAX_FLOWS);
	__type(key, struct dmad_rx_flow_key);
	__type(value, struct dmad_rx_flow_val);
} dmad_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, DMAD_RX_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} dmad_xsks SEC(".maps");

/* Written once after load: the pid of the dmad that owns this program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dmad_owner SEC(".maps");

/* The UDP header of a datagram we could hand over whole, or NULL. */
static __always_inline struct udphdr *udp_of(void *data, void *end)
{
	struct ethhdr *eth = data;
	__u8 proto;
	void *l4;

	if ((void *)(eth + 1) > end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return NULL;
		/* A fragment, first or not: the kernel reassembles it. */
		if (ip->frag_off & bpf_htons(0x3fff))
			return NULL;
		proto = ip->protocol;
		l4 = (__u8 *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return NULL;
		proto = ip6->nexthdr; /* extension headers: not ours */
		l4 = ip6 + 1;
	} else {
		return NULL;
	}
	if (proto != IPPROTO_UDP || l4 + sizeof(struct udphdr) > end)
		return NULL;
	return l4;
}

/* frags: datagrams over one page (jumbo MTU) come as multi-buffer frames. */
SEC("xdp.frags")
int dmad_xdp_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct dmad_rx_flow_key key = {.proto = IPPROTO_UDP};
	struct dmad_rx_flow_val *flow;
	struct udphdr *udp = udp_of(data, end);

	if (!udp)
		return XDP_PASS;
	key.port = bpf_ntohs(udp->dest);
	flow = bpf_map_lookup_elem(&dmad_flows, &key);
	/* A flow is bound to one queue; the same port on another goes to the stack. */
	if (!flow || flow->queue != ctx->rx_queue_index)
		return XDP_PASS;
	return bpf_redirect_map(&dmad_xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
