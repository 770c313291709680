/* SPDX-License-Identifier: MIT */
/*
 * The NUMA node a client's channel is placed for, from what /proc says of
 * its process: where it may run, its memory policy, where its memory may
 * come from, and where it last ran. The reading (place_node_of_pid(),
 * place.h) is apart from the decision, a pure function the unit tests
 * call with facts of their own. Control thread.
 */
#ifndef DMAD_PLACE_NODE_H
#define DMAD_PLACE_NODE_H

#include <stdbool.h>
#include <stdint.h>

/* Nodes past this are not told apart (a set naming one is "unknown"). */
#define PLACE_NODES_MAX 64

/* A kernel list ("0-3,8,10-11") as ranges. */
#define PLACE_RANGES_MAX 64
struct place_ranges {
	unsigned n;
	uint32_t lo[PLACE_RANGES_MAX], hi[PLACE_RANGES_MAX];
};

/* place_ranges_parse() - @s, up to a newline or NUL. 0, or -EINVAL (and
 * @ret empty) for anything but a well-formed list of at most PLACE_RANGES_MAX. */
int place_ranges_parse(const char *s, struct place_ranges *ret);

/* Do @a and @b share a number? */
bool place_ranges_meet(const struct place_ranges *a, const struct place_ranges *b);

/* The nodes in @r as a mask; 0 when it names one past PLACE_NODES_MAX. */
uint64_t place_ranges_mask(const struct place_ranges *r);

struct place_node_facts {
	uint64_t cpu_nodes;    /* nodes of the CPUs it may run on; 0: unknown */
	uint64_t policy_nodes; /* its memory policy's, when bind or preferred; 0: none known */
	uint64_t mem_nodes;    /* Mems_allowed (its cpuset's); 0: unknown */
	int last_cpu_node;     /* of the CPU it last ran on; PLACE_NODE_ANY: unknown */
};

/*
 * place_node_decide() - the first of these that names one node: the CPUs
 * it may run on, its memory policy, its cpuset's memory nodes; else the
 * node it last ran on (PLACE_NODE_ANY when unknown).
 */
int place_node_decide(const struct place_node_facts *f);

/* place_policy_nodes() - the nodes of a numa_maps policy ("bind:0-1",
 * "prefer:1", "preferred-many=static:0,2"); 0 for "default", "local",
 * interleave (it spreads) and anything not understood. */
uint64_t place_policy_nodes(const char *policy);

#endif /* DMAD_PLACE_NODE_H */
