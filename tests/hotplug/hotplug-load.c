/* SPDX-License-Identifier: MIT */
/*
 * hotplug-load: the hotplug tests' verifying client on its own, for
 * measure-drain.sh. Copies until SIGTERM/SIGINT or --seconds, then prints
 * one JSON line: what it verified and its longest dmac_wait() (its stall).
 *
 *   hotplug-load --socket PATH [--seconds S] [--name NAME] [--seed N]
 *
 * Exit status 0 when every copy completed in order and byte-exact, else 1.
 * Set DMAC_COPYBREAK=0 to send every copy to the daemon.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "load.h"

static int stop_pipe[2];

static void on_signal(int sig)
{
	ssize_t w = write(stop_pipe[1], "", 1);

	(void)sig;
	(void)w;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"seconds", required_argument, NULL, 't'},
		{"name", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	const char *socket = NULL, *name = "hotplug-load";
	struct sigaction sa = {.sa_handler = on_signal};
	uint32_t seed = (uint32_t)getpid();
	struct load_result r;
	double seconds = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			name = optarg;
			break;
		case 'r':
			seed = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: hotplug-load --socket PATH [--seconds S] "
					"[--name NAME] [--seed N]\n");
			return 2;
		}
	}
	if (!socket || pipe2(stop_pipe, O_CLOEXEC) < 0) {
		fprintf(stderr, "hotplug-load: --socket is required\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	load_run(socket, name, seed, stop_pipe[0], -1,
		 seconds > 0 ? harness_now_ms() + (int64_t)(seconds * 1000) : 0, &r);
	printf("{\"name\":\"%s\",\"rounds\":%llu,\"copies\":%llu,\"bytes\":%llu,"
	       "\"max_stall_us\":%llu,\"move_stall_us\":%llu,\"max_event_stall_us\":%llu,"
	       "\"moves\":%u,\"device\":\"%s\",\"ok\":%s}\n",
	       name, (unsigned long long)r.rounds, (unsigned long long)r.copies,
	       (unsigned long long)r.bytes, (unsigned long long)r.max_stall_us,
	       (unsigned long long)r.move_stall_us, (unsigned long long)r.max_ev_stall_us,
	       r.ev_moved + r.ev_cpu, r.last_dev, r.err ? "false" : "true");
	if (r.err)
		fprintf(stderr, "hotplug-load %s: %s\n", name, r.why);
	return r.err ? 1 : 0;
}
