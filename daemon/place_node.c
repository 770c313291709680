/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"
#include "place_node.h"

int place_ranges_parse(const char *s, struct place_ranges *ret)
{
	*ret = (struct place_ranges){0};
	while (*s && *s != '\n') {
		unsigned long lo, hi;
		char *end;

		if (*s < '0' || *s > '9' || ret->n == PLACE_RANGES_MAX)
			goto bad;
		lo = hi = strtoul(s, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			hi = strtoul(end + 1, &end, 10);
		}
		if (lo > hi || hi > UINT32_MAX)
			goto bad;
		ret->lo[ret->n] = (uint32_t)lo;
		ret->hi[ret->n++] = (uint32_t)hi;
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			goto bad;
	}
	return 0;
bad:
	*ret = (struct place_ranges){0};
	return -EINVAL;
}

bool place_ranges_meet(const struct place_ranges *a, const struct place_ranges *b)
{
	for (unsigned i = 0; i < a->n; i++)
		for (unsigned j = 0; j < b->n; j++)
			if (a->lo[i] <= b->hi[j] && b->lo[j] <= a->hi[i])
				return true;
	return false;
}

uint64_t place_ranges_mask(const struct place_ranges *r)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < r->n; i++) {
		if (r->hi[i] >= PLACE_NODES_MAX)
			return 0;
		for (uint32_t k = r->lo[i]; k <= r->hi[i]; k++)
			m |= UINT64_C(1) << k;
	}
	return m;
}

/* The node of a mask naming exactly one. */
static int single(uint64_t m)
{
	return m && !(m & (m - 1)) ? __builtin_ctzll(m) : PLACE_NODE_ANY;
}

int place_node_decide(const struct place_node_facts *f)
{
	/* Pinned to one node's CPUs: it runs there, and what it touches
	 * first is allocated there. */
	if (single(f->cpu_nodes) != PLACE_NODE_ANY)
		return single(f->cpu_nodes);
	/* Free to run anywhere, but told where its memory goes (numactl
	 * --membind or --preferred, set_mempolicy()): where the copies' bytes are. */
	if (single(f->policy_nodes) != PLACE_NODE_ANY)
		return single(f->policy_nodes);
	/* Its cpuset (AllowedMemoryNodes=) confines its memory to one node. */
	if (single(f->mem_nodes) != PLACE_NODE_ANY)
		return single(f->mem_nodes);
	return f->last_cpu_node;
}

uint64_t place_policy_nodes(const char *policy)
{
	static const char *const kinds[] = {"bind", "prefer", "preferred", "preferred-many"};
	size_t n = strcspn(policy, ":=");
	struct place_ranges r;
	const char *nodes;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i]) != n || strncmp(policy, kinds[i], n))
			continue;
		/* "bind=static:0-1": mode flags before the nodes. */
		nodes = strchr(policy + n, ':');
		if (!nodes || place_ranges_parse(nodes + 1, &r) < 0)
			return 0;
		return place_ranges_mask(&r);
	}
	return 0;
}

/* The node of @cpu: /sys/devices/system/cpu/cpuN has a nodeM link to it. */
static int node_of_cpu(long cpu)
{
	char path[64];
	struct dirent *e;
	int node = PLACE_NODE_ANY;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld", cpu);
	dir = opendir(path);
	while (dir && (e = readdir(dir)))
		if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			node = atoi(e->d_name + 4);
	if (dir)
		closedir(dir);
	return node;
}

/* The node of the CPU @pid last ran on. */
static int last_cpu_node(pid_t pid)
{
	char path[64], buf[1024], *p;
	long cpu = -1;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return PLACE_NODE_ANY;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name, which may hold spaces and parentheses:
	 * field 3 is the state; "processor" is field 39. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 39; field++)
		p = strchr(p + 1, ' ');
	if (p)
		cpu = strtol(p + 1, NULL, 10);
	return cpu >= 0 ? node_of_cpu(cpu) : PLACE_NODE_ANY;
}

/* The nodes whose CPUs meet @cpus (Cpus_allowed_list). */
static uint64_t nodes_of_cpus(const struct place_ranges *cpus)
{
	uint64_t m = 0;

	for (unsigned node = 0; node < PLACE_NODES_MAX; node++) {
		char path[64], buf[4096];
		struct place_ranges r;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", node);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && place_ranges_parse(buf, &r) == 0 &&
		    place_ranges_meet(&r, cpus))
			m |= UINT64_C(1) << node;
		fclose(f);
	}
	return m;
}

/* Cpus_allowed_list and Mems_allowed_list from /proc/PID/status. */
static void read_status(pid_t pid, struct place_node_facts *f)
{
	char path[64], line[4096];
	struct place_ranges r;
	FILE *s;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = fopen(path, "re");
	while (s && fgets(line, sizeof(line), s)) {
		if (!strncmp(line, "Cpus_allowed_list:\t", 19) &&
		    place_ranges_parse(line + 19, &r) == 0)
			f->cpu_nodes = nodes_of_cpus(&r);
		else if (!strncmp(line, "Mems_allowed_list:\t", 19) &&
			 place_ranges_parse(line + 19, &r) == 0)
			f->mem_nodes = place_ranges_mask(&r);
	}
	if (s)
		fclose(s);
}

/* The task's memory policy: numa_maps shows it for every mapping without
 * one of its own, the first among them. Reading it needs ptrace access
 * (dmad's unit has no CAP_SYS_PTRACE: another user's client is unknown). */
static uint64_t read_policy(pid_t pid)
{
	char path[64], line[512], *policy, *end;
	uint64_t m = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
	f = fopen(path, "re");
	if (f && fgets(line, sizeof(line), f) && (policy = strchr(line, ' '))) {
		policy++;
		end = policy + strcspn(policy, " \n");
		*end = '\0';
		m = place_policy_nodes(policy);
	}
	if (f)
		fclose(f);
	return m;
}

int place_node_of_pid(pid_t pid)
{
	struct place_node_facts f = {.last_cpu_node = PLACE_NODE_ANY};

	/* pid 0: a peer in another pid namespace, nothing to read. */
	if (pid <= 0)
		return PLACE_NODE_ANY;
	read_status(pid, &f);
	f.policy_nodes = read_policy(pid);
	f.last_cpu_node = last_cpu_node(pid);
	return place_node_decide(&f);
}
