/* SPDX-License-Identifier: MIT */
/*
 * One case, any way of copying: a pipelined throughput pass, a check of the
 * bytes it copied, then a depth-1 latency pass. With several channels each
 * runs on its own thread and the phases start together.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* No completion for this long means the engine is stuck, not slow. */
#define STALL_NS (5ull * 1000000000ull)

/* CPU time of the client and the dmad at the start and end of the throughput pass. */
struct cpu_mark {
	double self, dmad;
};

struct worker {
	struct bench_chan *c;
	const struct run_params *p;
	pthread_barrier_t *barrier; /* NULL with one channel */
	struct cpu_mark *cpu;	    /* [2]; thread 0 takes the marks */
	int err;
	uint64_t ops;
	uint64_t t_start;
	uint64_t t_end;
	uint64_t *lat;
	unsigned lat_n;
	bool verified;
};

static uint8_t *slot_src(const struct bench_chan *c, uint64_t i)
{
	return c->src + (size_t)(i % c->slots) * c->stride;
}

static uint8_t *slot_dst(const struct bench_chan *c, uint64_t i)
{
	return c->dst + (size_t)(i % c->slots) * c->stride;
}

/* Distinct bytes per slot, so a copy to the wrong slot shows too. */
static void fill_sources(const struct bench_chan *c, size_t size)
{
	for (unsigned s = 0; s < c->slots; s++) {
		uint64_t x = 0x9e3779b97f4a7c15ull * (s + 1);
		uint8_t *p = slot_src(c, s);

		for (size_t i = 0; i < size; i += sizeof(x)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(p + i, &x, size - i < sizeof(x) ? size - i : sizeof(x));
		}
	}
}

/*
 * Keep up to @window copies in flight until @max_ops have completed or
 * @duration_ns has passed; the clock stops when the last one completes.
 */
static int pipeline(struct bench_chan *c, size_t size, unsigned window, uint64_t max_ops,
		    uint64_t duration_ns, uint64_t *ret_ops, uint64_t *ret_start, uint64_t *ret_end)
{
	uint64_t sub = 0, done = 0, start = now_ns(), progress = start, t = start;
	int r;

	while (done < max_ops) {
		unsigned queued = 0;

		while (sub - done < window && sub < max_ops) {
			r = c->ops->submit(c, slot_dst(c, sub), slot_src(c, sub), size);
			if (r == -EAGAIN)
				break;
			if (r < 0)
				return r;
			sub++;
			queued++;
		}
		if (queued)
			c->ops->issue(c);
		else if (c->ops->wait && sub > done && (r = c->ops->wait(c)) < 0)
			return r;
		r = c->ops->reap(c);
		if (r < 0)
			return r;
		done += (unsigned)r;
		t = now_ns();
		if (r)
			progress = t;
		else if (t - progress > STALL_NS)
			return -ETIMEDOUT;
		if (t - start >= duration_ns)
			max_ops = sub; /* stop submitting, drain */
	}
	*ret_ops = done;
	*ret_start = start;
	*ret_end = t;
	return 0;
}

static bool check_copies(const struct bench_chan *c, size_t size, uint64_t ops)
{
	unsigned used = ops < c->slots ? (unsigned)ops : c->slots;

	for (unsigned s = 0; s < used; s++)
		if (memcmp(slot_dst(c, s), slot_src(c, s), size))
			return false;
	return used > 0;
}

/*
 * One copy at a time, submit to observed completion. A fresh tag at both
 * ends of the source each time proves the completion covered this copy's
 * data, not an earlier one's.
 */
static int latency(struct worker *w)
{
	struct bench_chan *c = w->c;
	size_t size = w->p->size;
	uint64_t start = now_ns();
	int r;

	for (unsigned i = 0; i < w->p->lat_samples; i++) {
		uint64_t tag = 0xd3a0000000000000ull | i, head, tail, t0, t1;
		uint8_t *src = slot_src(c, i), *dst = slot_dst(c, i);
		unsigned spins = 0;

		memcpy(src, &tag, sizeof(tag));
		memcpy(src + size - sizeof(tag), &tag, sizeof(tag));
		t0 = now_ns();
		r = c->ops->submit(c, dst, src, size);
		if (r < 0)
			return r;
		c->ops->issue(c);
		if (c->ops->wait && (r = c->ops->wait(c)) < 0)
			return r;
		while ((r = c->ops->reap(c)) == 0)
			if (++spins % 1024 == 0 && now_ns() - t0 > STALL_NS)
				return -ETIMEDOUT;
		if (r < 0)
			return r;
		t1 = now_ns();
		w->lat[w->lat_n++] = t1 - t0;
		memcpy(&head, dst, sizeof(head));
		memcpy(&tail, dst + size - sizeof(tail), sizeof(tail));
		if (head != tag || tail != tag)
			w->verified = false;
		if ((double)(t1 - start) > w->p->lat_duration_s * 1e9)
			break;
	}
	return 0;
}

static void sync_phase(struct worker *w)
{
	if (w->barrier)
		pthread_barrier_wait(w->barrier);
}

static void mark(struct worker *w, unsigned k)
{
	if (w->cpu) {
		w->cpu[k].self = self_cpu_s();
		w->cpu[k].dmad = proc_cpu_s(w->p->dmad_pid);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct run_params *p = w->p;
	uint64_t ops, s, e;

	fill_sources(w->c, p->size);
	/* Fault in and warm up both sides before the clock runs. */
	w->err = pipeline(w->c, p->size, p->window, 2ull * p->window, UINT64_MAX, &ops, &s, &e);
	for (unsigned i = 0; i < w->c->slots; i++)
		memset(slot_dst(w->c, i), 0, p->size);

	sync_phase(w);
	mark(w, 0);
	if (!w->err)
		w->err = pipeline(w->c, p->size, p->window, p->max_ops,
				  (uint64_t)(p->duration_s * 1e9), &w->ops, &w->t_start, &w->t_end);
	sync_phase(w);
	mark(w, 1);
	w->verified = !w->err && check_copies(w->c, p->size, w->ops);

	sync_phase(w);
	if (!w->err)
		w->err = latency(w);
	return NULL;
}

int run_case(struct bench_chan **chans, unsigned n, const struct run_params *p,
	     struct bench_result *ret)
{
	struct worker *w = calloc(n, sizeof(*w));
	uint64_t *lat = calloc((size_t)n * p->lat_samples, sizeof(*lat));
	pthread_barrier_t barrier;
	struct cpu_mark cpu[2];
	uint64_t start = UINT64_MAX, end = 0;
	struct bench_result r = {0};
	pthread_t *tid = NULL;
	int err = 0;

	if (!w || !lat) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		w[i].c = chans[i];
		w[i].p = p;
		w[i].lat = lat + (size_t)i * p->lat_samples;
		w[i].barrier = n > 1 ? &barrier : NULL;
	}
	w[0].cpu = cpu;
	if (n == 1) {
		worker_main(&w[0]);
	} else {
		tid = calloc(n, sizeof(*tid));
		if (!tid) {
			err = -ENOMEM;
			goto out;
		}
		pthread_barrier_init(&barrier, NULL, n);
		for (unsigned i = 0; i < n; i++) {
			/* Threads already waiting on a barrier that can never fill would hang. */
			if (pthread_create(&tid[i], NULL, worker_main, &w[i])) {
				fprintf(stderr, "dmad-bench: cannot start thread %u of %u\n", i, n);
				exit(EXIT_FAILURE);
			}
		}
		for (unsigned i = 0; i < n; i++)
			pthread_join(tid[i], NULL);
		pthread_barrier_destroy(&barrier);
	}

	r.size = p->size;
	r.channels = n;
	r.window = p->window;
	r.verified = true;
	for (unsigned i = 0; i < n; i++) {
		if (w[i].err && !err)
			err = w[i].err;
		r.ops += w[i].ops;
		r.verified = r.verified && w[i].verified;
		start = w[i].t_start < start ? w[i].t_start : start;
		end = w[i].t_end > end ? w[i].t_end : end;
		/* Pack the samples together for the percentiles. */
		memmove(lat + r.lat_n, w[i].lat, w[i].lat_n * sizeof(*lat));
		r.lat_n += w[i].lat_n;
	}
	if (err)
		goto out;
	r.bytes = r.ops * p->size;
	r.seconds = (double)(end - start) / 1e9;
	r.client_cpu_s = cpu[1].self - cpu[0].self;
	r.dmad_cpu_s = cpu[0].dmad < 0 || cpu[1].dmad < 0 ? -1 : cpu[1].dmad - cpu[0].dmad;
	r.lat_p50_us = percentile_ns(lat, r.lat_n, 50) / 1e3;
	r.lat_p99_us = percentile_ns(lat, r.lat_n, 99) / 1e3;
	*ret = r;
out:
	free(tid);
	free(lat);
	free(w);
	return err;
}
