/* SPDX-License-Identifier: MIT */
/*
 * Which NUMA node a client's channel is placed for, and where rebalancing
 * may move it, over the pure functions place_node.h and place.h give: this
 * machine has one node, so the facts here are made up, every one of them.
 */
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "place_node.h"
#include "tap.h"

#define N(k) (UINT64_C(1) << (k))

static void ranges(void)
{
	struct place_ranges r, s;

	ok(place_ranges_parse("0-3,8,10-11\n", &r) == 0 && r.n == 3 && r.lo[0] == 0 &&
		   r.hi[0] == 3 && r.lo[1] == 8 && r.hi[1] == 8 && r.lo[2] == 10 && r.hi[2] == 11,
	   "0-3,8,10-11: three ranges");
	ok(place_ranges_mask(&r) == (N(0) | N(1) | N(2) | N(3) | N(8) | N(10) | N(11)),
	   "and their mask");
	ok(place_ranges_parse("", &r) == 0 && r.n == 0 && place_ranges_mask(&r) == 0,
	   "an empty list: nothing, mask 0");
	ok(place_ranges_parse("3-1", &r) == -EINVAL && r.n == 0, "3-1: refused");
	ok(place_ranges_parse("1,,2", &r) == -EINVAL, "1,,2: refused");
	ok(place_ranges_parse("-1", &r) == -EINVAL, "-1: refused");
	ok(place_ranges_parse("1-", &r) == -EINVAL, "1-: refused");
	ok(place_ranges_parse("1 2", &r) == -EINVAL, "1 2: refused");
	ok(place_ranges_parse("99999999999999999999", &r) == -EINVAL, "past 32 bits: refused");
	ok(place_ranges_parse("0-63", &r) == 0 && place_ranges_mask(&r) == UINT64_MAX,
	   "0-63: every node");
	ok(place_ranges_parse("64", &r) == 0 && place_ranges_mask(&r) == 0,
	   "node 64: not told apart, mask 0 (unknown)");
	ok(place_ranges_parse("0-3", &r) == 0 && place_ranges_parse("3-5", &s) == 0 &&
		   place_ranges_meet(&r, &s),
	   "0-3 meets 3-5");
	ok(place_ranges_parse("0-3,8", &r) == 0 && place_ranges_parse("4-7,9", &s) == 0 &&
		   !place_ranges_meet(&r, &s),
	   "0-3,8 does not meet 4-7,9");
}

static void policies(void)
{
	ok(place_policy_nodes("default") == 0, "default: none");
	ok(place_policy_nodes("local") == 0, "local: none");
	ok(place_policy_nodes("interleave:0-1") == 0, "interleave: none (it spreads)");
	ok(place_policy_nodes("bind:1") == N(1), "bind:1");
	ok(place_policy_nodes("bind:0-1") == (N(0) | N(1)), "bind:0-1");
	ok(place_policy_nodes("prefer:2") == N(2), "prefer:2");
	ok(place_policy_nodes("bind=static:3") == N(3), "bind=static:3 (mode flags)");
	ok(place_policy_nodes("preferred-many:0,2") == (N(0) | N(2)), "preferred-many:0,2");
	ok(place_policy_nodes("binder:1") == 0 && place_policy_nodes("bind") == 0 &&
		   place_policy_nodes("bind:x") == 0,
	   "anything else: none");
}

static void decide(void)
{
	struct place_node_facts f = {.last_cpu_node = 0};

	ok(place_node_decide(&f) == 0, "nothing known but where it last ran: that node");
	f.cpu_nodes = N(0) | N(1);
	f.mem_nodes = N(0) | N(1);
	ok(place_node_decide(&f) == 0, "free to run and allocate anywhere: where it last ran");
	f.mem_nodes = N(1);
	ok(place_node_decide(&f) == 1, "not pinned, its cpuset's memory on node 1: node 1");
	f.policy_nodes = N(2);
	ok(place_node_decide(&f) == 2, "not pinned, memory policy bound to node 2: node 2");
	f.policy_nodes = N(1) | N(2);
	ok(place_node_decide(&f) == 1, "a policy of two nodes says nothing: its cpuset's");
	f.cpu_nodes = N(3);
	f.policy_nodes = N(2);
	ok(place_node_decide(&f) == 3, "pinned to node 3's CPUs: node 3, whatever else");
	f = (struct place_node_facts){.last_cpu_node = PLACE_NODE_ANY};
	ok(place_node_decide(&f) == PLACE_NODE_ANY, "nothing known: any node");
}

/* A device of @node that copied @bps over the last second, with @nchans. */
static struct device *dev(int node, uint64_t bps, uint32_t nchans)
{
	struct device *d = calloc(1, sizeof(*d));

	if (!d)
		tap_bail("calloc");
	d->state = DMAD_PROTO_DEV_ONLINE;
	d->numa_node = node;
	d->nchans = nchans;
	d->load_pos = 2;
	d->load_ms[0] = 1000;
	d->load_ms[1] = 2000;
	d->load_bytes[1] = bps;
	return d;
}

static void least(void)
{
	struct device *d[4] = {dev(0, 900, 1), dev(0, 500, 1), dev(1, 0, 1),
			       dev(PLACE_NODE_ANY, 0, 0)};

	ok(place_least(d, 4, PLACE_NODE_ANY, NULL) == d[3],
	   "no node: the least loaded, ties to fewer channels");
	ok(place_least(d, 4, 0, NULL) == d[1],
	   "node 0: its least loaded, not an idle one elsewhere");
	ok(place_least(d, 4, 0, d[0]) == d[1], "rebalancing off node 0's busiest: node 0's other");
	ok(place_least(d, 4, 1, d[2]) == NULL,
	   "node 1's only engine: a channel there does not move off its node");
	ok(place_least(d, 4, 5, d[0]) == d[3],
	   "a node without engines: any engine, the least loaded");
	d[1]->state = DMAD_PROTO_DEV_REMOVED;
	ok(place_least(d, 4, 0, d[0]) == NULL,
	   "node 0's other engine not ONLINE: node 0's channel stays");
	d[2]->failed = 1;
	ok(place_least(d, 4, 1, NULL) == d[3], "node 1's engine failed: node 1 has none, any");
	for (int i = 0; i < 4; i++)
		free(d[i]);
}

int main(void)
{
	ranges();
	policies();
	decide();
	least();
	return tap_done();
}
