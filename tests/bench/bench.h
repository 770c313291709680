/* SPDX-License-Identifier: MIT */
/*
 * dmad-bench: the same copies three ways (through dmad, in-process
 * rte_dma_copy on a dma_skeleton engine, CPU memcpy) in one run.
 *
 * Each way is a "channel" behind one ops table, so the pipelined loop, the
 * latency loop and the data check in run.c are the same code for all of them
 * and the numbers differ only by what the channel does.
 */
#ifndef DMAD_BENCH_H
#define DMAD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct bench_chan;

struct bench_chan_ops {
	/* Queue one copy. 0, -EAGAIN (queue full: reap first) or -errno. */
	int (*submit)(struct bench_chan *c, void *dst, const void *src, size_t len);
	/* Hand everything queued to the engine. */
	void (*issue)(struct bench_chan *c);
	/* Copies completed since the last call (they complete in order), or -errno. */
	int (*reap)(struct bench_chan *c);
	/*
	 * Block until the oldest copy in flight completes, as a client with
	 * nothing else to do would; 0 or -errno. NULL: the way has no such
	 * call and the submitter polls reap().
	 */
	int (*wait)(struct bench_chan *c);
	/* The engine the copies go to now: a device name, or "cpu". */
	const char *(*engine)(struct bench_chan *c);
	/* Give back the channel and its buffers (bench_chan_close() takes NULL). */
	void (*close)(struct bench_chan *c);
};

/*
 * One submitter's channel and its buffers: @slots source and destination
 * slots of @stride bytes each, from memory this way can copy.
 */
struct bench_chan {
	const struct bench_chan_ops *ops;
	uint8_t *src;
	uint8_t *dst;
	size_t stride;
	unsigned slots;
};

static inline void bench_chan_close(struct bench_chan *c)
{
	if (c)
		c->ops->close(c);
}

/* What one case runs. */
struct run_params {
	size_t size;	       /* bytes per copy */
	unsigned window;       /* copies kept in flight */
	uint64_t max_ops;      /* stop after this many copies ... */
	double duration_s;     /* ... or this long, whichever first */
	unsigned lat_samples;  /* depth-1 latency samples per channel, at most */
	double lat_duration_s; /* ... or this long */
	pid_t dmad_pid;	       /* the dmad whose CPU time to count; 0: none */
};

/* What one case measured. */
struct bench_result {
	const char *mode;
	size_t size;
	unsigned channels;
	unsigned window;
	uint64_t ops;
	uint64_t bytes;
	double seconds;
	unsigned lat_n;
	double lat_p50_us;
	double lat_p99_us;
	bool verified;	 /* sampled destination bytes matched their source */
	char engine[32]; /* where the copies went, as the channels say after the case */
	/* CPU time spent during the throughput pass, in seconds: this process
	 * (the client's threads; for inproc, its engine thread too), and the
	 * dmad (-1 when there is none to count). */
	double client_cpu_s;
	double dmad_cpu_s;
};

/* stats.c */
uint64_t now_ns(void);
/* CPU time used so far, in seconds: by this process (getrusage), by process
 * @pid, all its threads, exited ones too (/proc/PID/stat); -1 if unknown. */
double self_cpu_s(void);
double proc_cpu_s(pid_t pid);
/* Sorts @v in place; @p in [0, 100]. */
double percentile_ns(uint64_t *v, size_t n, double p);

/* run.c: @chans[i] is used by thread i; one channel runs on the caller's thread. */
int run_case(struct bench_chan **chans, unsigned n, const struct run_params *p,
	     struct bench_result *ret);

/* mem.c: private anonymous memory for the ways that copy by virtual address. */
int anon_bufs_map(struct bench_chan *c, size_t stride, unsigned slots);
void anon_bufs_unmap(struct bench_chan *c);

/* bench_cpu.c */
int cpu_chan_open(size_t stride, unsigned slots, struct bench_chan **ret_chan);

/*
 * bench_inproc.c: init once per process (-ENODEV: no engine could be made);
 * one channel open at a time, as the skeleton has one vchan.
 */
int inproc_init(unsigned nb_desc);
int inproc_chan_open(size_t stride, unsigned slots, struct bench_chan **ret_chan);
void inproc_fini(void);

/*
 * bench_dmad.c. @poll: never dmac_wait(), only poll dmac_is_complete().
 * @cpu >= 0: the calling thread runs on that CPU alone while it has a
 * channel open (the layouts in bench.c).
 */
struct dmac_client;
int dmad_chan_open(struct dmac_client *c, size_t stride, unsigned slots, bool poll, int cpu,
		   struct bench_chan **ret_chan);

/* daemon.c: a dmad this process starts and stops. */
struct daemon;
int daemon_start(const char *exe, char *const extra_args[], struct daemon **ret_daemon);
const char *daemon_socket(const struct daemon *d);
pid_t daemon_pid(const struct daemon *d);
void daemon_stop(struct daemon *d);

/* hotpath.c: the loop hotpath-counts.sh measures. */
int hotpath_run(struct dmac_client *c, size_t size, uint64_t ops, unsigned batch);

/* report.c */
void report_table(FILE *f, const struct bench_result *r, size_t n);
int report_json(FILE *f, const struct bench_result *r, size_t n, const char *cmdline);

#endif /* DMAD_BENCH_H */
