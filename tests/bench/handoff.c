/* SPDX-License-Identifier: MIT */
/*
 * handoff: the host's two floors under dmad-bench's layouts, measured the
 * way the layouts hand work over, so that a run's ratios can be read
 * against the machine they ran on (README: "Which host window").
 *
 *   same CPU, two processes taking turns by sched_yield(): what the
 *   shared-CPU layout pays twice per window (client to worker and back);
 *   two CPUs, two processes spinning on one cache line: what the in-process
 *   case and the dedicated layout pay per hand-off.
 *
 * From the first it prints the least a copy can cost in the shared layout
 * at a given window, from switching alone: 2 x switch / window.
 *
 * usage: handoff [--rounds N] [--window N]
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct turn {
	/* Whose turn: even the parent's, odd the child's. */
	volatile uint64_t n __attribute__((aligned(64)));
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Take @rounds turns: side 0 on even counts, side 1 on odd ones. */
static void take_turns(struct turn *t, unsigned side, uint64_t rounds, bool yield)
{
	for (uint64_t i = 0; i < rounds; i++) {
		while ((t->n & 1) != side) {
			if (yield)
				sched_yield();
			else
				__builtin_ia32_pause();
		}
		__atomic_store_n(&t->n, t->n + 1, __ATOMIC_RELEASE);
	}
}

/* Nanoseconds per hand-off between two processes on @cpu_a and @cpu_b. */
static double measure(int cpu_a, int cpu_b, uint64_t rounds, bool yield)
{
	struct turn *t =
		mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t t0, t1;
	int status;
	pid_t pid;

	if (t == MAP_FAILED)
		return -1;
	t->n = 0;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (pin(cpu_b) < 0)
			_exit(1);
		take_turns(t, 1, rounds, yield);
		_exit(0);
	}
	if (pin(cpu_a) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* The first turns fault in and migrate: time only the rest. */
	take_turns(t, 0, rounds / 10, yield);
	t0 = now_ns();
	take_turns(t, 0, rounds - rounds / 10, yield);
	t1 = now_ns();
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	munmap(t, sizeof(*t));
	/* Each of our turns is two hand-offs: to the other side and back. */
	return (double)(t1 - t0) / (2.0 * (double)(rounds - rounds / 10));
}

int main(int argc, char **argv)
{
	uint64_t rounds = 20000;
	unsigned window = 64;
	int cpus[2], n = 0;
	double same, cross;
	cpu_set_t set;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
			window = (unsigned)strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: handoff [--rounds N] [--window N]\n");
			return 2;
		}
	}
	if (rounds < 10 || !window) {
		fprintf(stderr, "handoff: --rounds at least 10, --window at least 1\n");
		return 2;
	}
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n < 2) {
		fprintf(stderr, "handoff: needs two CPUs in its affinity mask\n");
		return 1;
	}
	same = measure(cpus[0], cpus[0], rounds, true);
	cross = measure(cpus[0], cpus[1], rounds, false);
	if (same < 0 || cross < 0) {
		fprintf(stderr, "handoff: %s\n", strerror(errno ? errno : EIO));
		return 1;
	}
	printf("same CPU %d, sched_yield():  %8.0f ns per switch between processes\n", cpus[0],
	       same);
	printf("CPUs %d and %d, spinning:     %8.0f ns per cache-line hand-off\n", cpus[0], cpus[1],
	       cross);
	printf("shared-CPU layout, window %u: at least %.0f ns per copy in switches alone\n",
	       window, 2.0 * same / window);
	return 0;
}
