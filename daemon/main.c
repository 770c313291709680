/* SPDX-License-Identifier: MIT */
/*
 * dmad: owns the host's DMA engines through DPDK dmadev and lends them to
 * unprivileged processes over shared-memory rings.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "admin.h"
#include "client.h"
#include "closer.h"
#include "config.h"
#include "control.h"
#include "device.h"
#include "eal.h"
#include "engine.h"
#include "handover.h"
#include "handover_fdstore.h"
#include "handover_live.h"
#include "handover_sessions.h"
#include "hotplug.h"
#include "life.h"
#include "log.h"
#include "metrics_http.h"
#include "monitor.h"
#include "notify.h"
#include "quota_limits.h"
#include "reload.h"
#include "rx.h"
#include "telemetry.h"
#include "share.h"
#include "stripe.h"
#include "worker.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dmad [OPTIONS] [-- EAL OPTIONS]\n"
		"Lend this host's DMA engines to unprivileged processes.\n\n"
		"  --socket PATH       control socket (default $DMAD_SOCKET, then %s)\n"
		"  --engines N|cpu     dma_skeleton software engines when no device is named\n"
		"                      (default 2), or cpu: none, and channels copy on dmad's\n"
		"                      CPU engine, in its worker\n"
		"  --workers N         polling worker threads (default 1)\n"
		"  --copybreak BYTES   override the calibrated copybreak\n"
		"  --stripe-min BYTES  split copies from this size over every engine of their\n"
		"                      worker (default: 128 copybreaks, 256 KiB..16 MiB; 0: never)\n"
		"  --fault-injection   allow `dmactl fault` (tests only)\n"
		"  --watchdog-ms MS    a device with work and no completion this long is dead\n"
		"                      (default 100; 1000 for software engines, which share the CPU)\n"
		"  --drain-timeout-ms MS  default bound on `dmactl remove` (5000)\n"
		"  --log-level LEVEL   err, warning, notice, info (default), debug\n"
		"  --config FILE       live settings, re-read on SIGHUP (dmad(8): CONFIGURATION)\n"
		"  --admin-group NAME  whose members are admins besides root and dmad's user\n"
		"                      (default " ADMIN_GROUP_DEFAULT
		"; a number is a gid, \"\" none)\n"
		"  --limit KIND=N[,KIND=N...]       in all, for every client together\n"
		"  --user-limit KIND=N[,KIND=N...]  for the clients of one uid\n"
		"                      KIND: clients, regions, channels, maps, bytes, fds; N may end\n"
		"                      in K, M, G, T. Default: from vm.max_map_count and\n"
		"                      RLIMIT_NOFILE, a user half of it (dmad(8): LIMITS)\n"
		"  --client-limit KIND=N[,...]  per client: regions (256), channels (64),\n"
		"                      bytes (64G)\n"
		"  --metrics-listen unix:PATH|127.0.0.1:PORT|[::1]:PORT\n"
		"                      serve every counter as OpenMetrics at GET /metrics\n"
		"  --user-share USER:weight=N,rate=N  the share of an engine of USER's clients\n"
		"                      (a name or uid): their weight by default (1..10000, else\n"
		"                      100), their byte rate together (bytes/s, K, M, G, T)\n"
		"  --takeover-fd=FD    resume the sessions a dmad before a restart handed over\n"
		"                      (dmactl restart passes it; FD is the state memfd)\n"
		"  --fdstore           under a service manager ($NOTIFY_SOCKET), SIGTERM hands\n"
		"                      every session to its fd store, for the next dmad\n"
		"                      (FileDescriptorStoreMax=; dmad(8): SYSTEMD)\n"
		"  --version           print dmad's version and what it was built with\n"
		"  -h, --help          this text\n\n"
		"Devices named in EAL options (-a PCI, --vdev) are used as given.\n",
		DMAD_PROTO_SOCKET_DEFAULT);
}

/* As systemd's programs do: the version, then the build's features. */
static void version(void)
{
	printf("dmad " DMAD_VERSION " (control protocol %u.%u)\n%crx\n", DMAD_PROTO_VERSION_MAJOR,
	       DMAD_PROTO_VERSION_MINOR, DMAD_HAVE_RX ? '+' : '-');
}

/* --config, and the live settings the command line gave (reload.h): those
 * win over the config file. */
static const char *config_path;
static unsigned pinned;
static int64_t stripe_min = -1;	 /* --stripe-min; -1: from calibration */
static const char *metrics_spec; /* --metrics-listen */
static int takeover_fd = -1;

/* Returns the index of the first EAL option in argv, or a negative errno. */
static int parse_args(int argc, char **argv, int *ret_copybreak)
{
	enum {
		O_SOCKET = 256,
		O_ENGINES,
		O_WORKERS,
		O_COPYBREAK,
		O_STRIPE_MIN,
		O_FAULT,
		O_LOG,
		O_WATCHDOG,
		O_DRAIN,
		O_CONFIG,
		O_ADMIN_GROUP,
		O_LIMIT,
		O_USER_LIMIT,
		O_CLIENT_LIMIT,
		O_METRICS,
		O_USER_SHARE,
		O_TAKEOVER,
		O_FDSTORE,
		O_VERSION
	};
	static const struct option opts[] = {
		{"socket", required_argument, NULL, O_SOCKET},
		{"engines", required_argument, NULL, O_ENGINES},
		{"workers", required_argument, NULL, O_WORKERS},
		{"copybreak", required_argument, NULL, O_COPYBREAK},
		{"stripe-min", required_argument, NULL, O_STRIPE_MIN},
		{"fault-injection", no_argument, NULL, O_FAULT},
		{"log-level", required_argument, NULL, O_LOG},
		{"watchdog-ms", required_argument, NULL, O_WATCHDOG},
		{"drain-timeout-ms", required_argument, NULL, O_DRAIN},
		{"config", required_argument, NULL, O_CONFIG},
		{"admin-group", required_argument, NULL, O_ADMIN_GROUP},
		{"limit", required_argument, NULL, O_LIMIT},
		{"user-limit", required_argument, NULL, O_USER_LIMIT},
		{"client-limit", required_argument, NULL, O_CLIENT_LIMIT},
		{"metrics-listen", required_argument, NULL, O_METRICS},
		{"user-share", required_argument, NULL, O_USER_SHARE},
		{"takeover-fd", required_argument, NULL, O_TAKEOVER},
		{"fdstore", no_argument, NULL, O_FDSTORE},
		{"version", no_argument, NULL, O_VERSION},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	unsigned v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET:
			dmad.cfg.socket_path = optarg;
			break;
		case O_ENGINES:
			dmad.cfg.cpu_engine = !strcmp(optarg, "cpu");
			if (dmad.cfg.cpu_engine)
				dmad.cfg.engines = 0;
			else if (config_parse_u32(optarg, 0, 16, &dmad.cfg.engines) < 0)
				return log_error_errno(
					-EINVAL, "--engines takes 0..16 or cpu, not '%s'", optarg);
			break;
		case O_WORKERS:
			if (config_parse_u32(optarg, 0, MAX_WORKERS, &dmad.cfg.workers) < 0 ||
			    !dmad.cfg.workers)
				return log_error_errno(-EINVAL, "--workers takes 1..%d, not '%s'",
						       MAX_WORKERS, optarg);
			break;
		case O_COPYBREAK:
			if (config_parse_u32(optarg, 0, UINT32_MAX, &v) < 0)
				return log_error_errno(-EINVAL,
						       "--copybreak takes decimal bytes, not '%s'",
						       optarg);
			*ret_copybreak = (int)RTE_MIN(v, (unsigned)INT32_MAX);
			pinned |= RELOAD_COPYBREAK;
			break;
		case O_STRIPE_MIN:
			if (config_parse_u32(optarg, 0, UINT32_MAX, &v) < 0)
				return log_error_errno(-EINVAL,
						       "--stripe-min takes decimal bytes, not '%s'",
						       optarg);
			stripe_min = v;
			break;
		case O_FAULT:
			dmad.cfg.fault_injection = true;
			break;
		case O_LOG:
			if (log_parse_level(optarg) < 0)
				return log_error_errno(-EINVAL, "unknown log level '%s'", optarg);
			log_max_level = log_parse_level(optarg);
			pinned |= RELOAD_LOG_LEVEL;
			break;
		case O_WATCHDOG:
			if (config_parse_u32(optarg, 0, 3600000, &dmad.cfg.watchdog_ms) < 0 ||
			    !dmad.cfg.watchdog_ms)
				return log_error_errno(-EINVAL, "--watchdog-ms takes 1..3600000");
			pinned |= RELOAD_WATCHDOG;
			break;
		case O_DRAIN:
			if (config_parse_u32(optarg, 0, 3600000, &dmad.cfg.drain_timeout_ms) < 0 ||
			    !dmad.cfg.drain_timeout_ms)
				return log_error_errno(-EINVAL,
						       "--drain-timeout-ms takes 1..3600000");
			pinned |= RELOAD_DRAIN_TIMEOUT;
			break;
		case O_CONFIG:
			config_path = optarg;
			break;
		case O_ADMIN_GROUP:
			dmad.cfg.admin_group = optarg;
			break;
		case O_LIMIT:
			if (limits_parse("--limit", optarg, dmad.cfg.limit) < 0)
				return -EINVAL;
			break;
		case O_USER_LIMIT:
			if (limits_parse("--user-limit", optarg, dmad.cfg.user_limit) < 0)
				return -EINVAL;
			break;
		case O_CLIENT_LIMIT:
			if (limits_parse_client(optarg) < 0)
				return -EINVAL;
			break;
		case O_METRICS:
			metrics_spec = optarg;
			break;
		case O_USER_SHARE:
			if (share_parse_user(optarg) < 0)
				return -EINVAL;
			break;
		case O_TAKEOVER:
			if (config_parse_u32(optarg, 3, INT32_MAX, &v) < 0)
				return log_error_errno(-EINVAL, "--takeover-fd takes an fd number");
			takeover_fd = (int)v;
			break;
		case O_FDSTORE:
			dmad.cfg.fdstore = true;
			break;
		case O_VERSION:
			version();
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	return optind;
}

/* The socket we listen on: under socket activation, the one systemd passed. */
static char listen_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* Our runtime directory when systemd gives none: the control socket's. */
static char runtime_dir[sizeof(listen_path)];

static void name_listener(int lfd)
{
	char *slash;

	struct sockaddr_un sa = {0};
	socklen_t len = sizeof(sa);

	if (getsockname(lfd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0])
		snprintf(listen_path, sizeof(listen_path), "%s", sa.sun_path);
	else
		snprintf(listen_path, sizeof(listen_path), "%s", dmad.cfg.socket_path);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", listen_path);
	slash = strrchr(runtime_dir, '/');
	if (slash && slash != runtime_dir)
		*slash = '\0';
	else
		snprintf(runtime_dir, sizeof(runtime_dir), slash ? "/" : ".");
}

static void ready(void)
{
	notify_ready();
	log_info("ready on %s: %u device(s), %u worker(s), copybreak %u bytes, stripes from %lu "
		 "bytes",
		 listen_path, dmad.ndev, dmad.nworkers, dmad.copybreak,
		 dmad.stripe_min == UINT64_MAX ? 0ul : (unsigned long)dmad.stripe_min);
}

/*
 * After a restart's exec, or from the fd store: the sessions handed over,
 * read and checked before anything else opens an fd. Returns the control
 * socket it brought (or -1: bind one), and sets *ret_loaded when the state
 * was accepted.
 */
static int takeover(struct handover_loaded **ret_loaded, int *ret_owned)
{
	int32_t *map = NULL;
	uint32_t nmap = 0;
	bool owned = false;
	int lfd = -1;

	*ret_loaded = NULL;
	if (takeover_fd < 0 && handover_fdstore_take(&takeover_fd, &map, &nmap) <= 0)
		return -1;
	handover_read(takeover_fd, map, nmap, ret_loaded, &lfd, &owned);
	free(map);
	*ret_owned = owned;
	return lfd;
}

/* The session journal's state (handover_live.h): the control socket's too. */
static int journal_lfd;
static bool journal_owned;

static void *journal_state(size_t *ret_len)
{
	return handover_save_state(journal_lfd, journal_owned, ret_len);
}

/*
 * Under a manager with an fd store: every session from now on survives a
 * crash of this dmad. Clients that see it gone wait for the next one, as
 * for a planned restart (the liveness page's handover word).
 */
static void keep_sessions(int lfd, int owned)
{
	if (!handover_fdstore_usable() || handover_live_init() < 0)
		return;
	journal_lfd = lfd;
	journal_owned = owned;
	handover_live_add(lfd, false);
	life_mark_handover();
}

/* A restart was asked: hand every session to the dmad this one execs, or
 * to the fd store for the one the service manager starts next. */
static void hand_over(int lfd, int owned)
{
	int fd = handover_save(lfd, owned);

	if (fd < 0)
		return; /* logged; shut down as without a restart */
	handover_live_unstore();
	for (unsigned i = 0; i < dmad.ndev; i++)
		device_release(dmad.devs[i]);
	device_release(dmad.cpu);
	rte_free(dmad.qs);
	rte_eal_cleanup();
	life_mark_handover();
	if (dmad.restart_store)
		_exit(handover_fdstore_send(fd) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
	handover_exec(fd);
	/* The devices are gone: this dmad cannot go on. Its clients see the
	 * socket close, and so the daemon gone. */
	_exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	struct handover_loaded *loaded;
	int eal_at, lfd, owned = 0, copybreak = -1, ret;
	sigset_t mask;

	dmad.main_ns = now_ns();
	log_init();
	config_defaults();
	if (handover_init(argc, argv) < 0)
		return EXIT_FAILURE;
	eal_at = parse_args(argc, argv, &copybreak);
	if (eal_at < 0 || reload_init(config_path, pinned) < 0)
		return EXIT_FAILURE;
	limits_init();

	/* Blocked before any thread starts (a restart's bridge, EAL's), so only
	 * the signalfd sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Bind first: a second dmad on the same socket must fail before touching
	 * devices. Metrics before the control socket: once that one answers,
	 * the endpoint is there too. */
	if (metrics_spec && metrics_listen(metrics_spec) < 0)
		return EXIT_FAILURE;
	lfd = takeover(&loaded, &owned);
	/* After the takeover, whose bridge serves the rings meanwhile: the
	 * group's lookup may load NSS modules (~2.5 ms). Before any request. */
	admin_init();
	if (lfd < 0)
		lfd = control_listen(dmad.cfg.socket_path, &owned);
	if (lfd < 0) {
		metrics_shutdown();
		return EXIT_FAILURE;
	}
	name_listener(lfd);
	if (life_init() < 0 || client_init() < 0 || monitor_init() < 0 || closer_start() < 0)
		goto fail_socket;
	keep_sessions(lfd, owned);
	if (eal_start(argv[0], dmad.cfg.workers, dmad.cfg.engines, runtime_dir, argv + eal_at) < 0)
		goto fail_socket;
	telemetry_init();
	dmad.eal_ns = now_ns();
	if (workers_init() < 0 || engine_cpu_create(&dmad.cpu) < 0)
		goto fail_workers;
	if (!engine_dmadev_setup_all())
		log_notice(dmad.cfg.cpu_engine
				   ? "no DMA device: channels copy on dmad's CPU engine"
				   : "no DMA device: every channel copies with the CPU");

	dmad.copybreak = UINT32_MAX;
	for (unsigned i = 0; i < dmad.ndev; i++)
		dmad.copybreak = RTE_MIN(dmad.copybreak, dmad.devs[i]->copybreak);
	/* The calibrated copybreak, not an override: see stripe_min_default(). */
	dmad.stripe_min = stripe_min < 0   ? stripe_min_default(dmad.copybreak)
			  : stripe_min > 0 ? (uint64_t)stripe_min
					   : UINT64_MAX;
	if (copybreak >= 0)
		dmad.copybreak = (uint32_t)copybreak;
	else if (!dmad.ndev)
		dmad.copybreak = dmad.cfg.cpu_engine ? dmad.cpu->copybreak : 0;
	reload_copybreak_start(); /* the config file's DMAD_COPYBREAK, unless --copybreak */

	if (workers_launch() < 0)
		goto fail_workers;
	dmad.engines_ns = now_ns();
	if (loaded)
		handover_restore(loaded);
	/* XDP programs a dmad that died left attached steer traffic nowhere.
	 * After the restore: a program handed over is this dmad's by then. */
	rx_sweep();
	handover_live_start(journal_state, client_replay_journal);
	ret = control_run(lfd, ready);
	if (dmad.restart) {
		control_quiesce();
	} else {
		notify_stopping();
		hotplug_settle();
	}
	/* Flows first: their last copies need the workers. A restart hands them on. */
	if (dmad.restart)
		rx_quiesce();
	else
		rx_shutdown();
	workers_stop();
	if (dmad.restart)
		hand_over(lfd, owned);
	control_shutdown();
	metrics_shutdown();
	for (unsigned i = 0; i < dmad.ndev; i++)
		device_release(dmad.devs[i]);
	device_release(dmad.cpu);
	rte_free(dmad.qs);
	eal_stop();
	if (owned)
		unlink(dmad.cfg.socket_path);
	close(lfd);
	log_info("stopped");
	return ret < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

fail_workers:
	workers_stop();
	for (unsigned i = 0; i < dmad.ndev; i++)
		device_release(dmad.devs[i]);
	device_release(dmad.cpu);
	eal_stop();
fail_socket:
	metrics_shutdown();
	if (owned)
		unlink(dmad.cfg.socket_path);
	close(lfd);
	return EXIT_FAILURE;
}
