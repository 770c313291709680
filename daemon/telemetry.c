/* SPDX-License-Identifier: MIT */
/*
 * The commands' callbacks run on DPDK's telemetry thread, which must not
 * walk the control thread's lists. So a callback asks (an eventfd the
 * control loop watches), and the control thread answers with a STATUS
 * snapshot (status_build_all()) copied under a mutex; the callback reads
 * that copy, under the same mutex, into telemetry data. Nothing is built
 * while no one asks; each side holds the mutex only to copy. A control
 * thread that does not answer within 1 s fails the command (DPDK then
 * answers null).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include "control.h"
#include "log.h"
#include "openmetrics.h"
#include "status.h"
#include "telemetry.h"

#define ANSWER_MS   1000
#define CLIENTS_MAX 64 /* DPDK's reply holds 16 KiB: a client takes ~150 bytes */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	int efd; /* telemetry -> control: a callback waits */
	struct control_watch watch;
	bool asked;   /* a callback waits: set under lock */
	uint64_t gen; /* snapshots taken, under lock */
	uint32_t len;
	_Alignas(8) uint8_t body[DMAD_PROTO_MSG_MAX];
} snap = {.lock = PTHREAD_MUTEX_INITIALIZER, .efd = -1};

/* Control thread: a callback asked. */
static void answer(struct control_watch *w, int res)
{
	uint64_t n;

	(void)res;
	if (read(snap.efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return; /* the eventfd is broken: callbacks time out from now on */
	pthread_mutex_lock(&snap.lock);
	if (snap.asked) {
		snap.len = status_build_all(snap.body, sizeof(snap.body));
		snap.gen++;
		snap.asked = false;
		pthread_cond_broadcast(&snap.done);
	}
	pthread_mutex_unlock(&snap.lock);
	control_watch(snap.efd, POLLIN, w);
}

void telemetry_start(void)
{
	if (snap.efd < 0)
		return;
	snap.watch.fn = answer;
	control_watch(snap.efd, POLLIN, &snap.watch);
}

/* A fresh snapshot in *s: 0 with snap.lock held, or -ETIMEDOUT/-EBADMSG. */
static int fetch(struct status_reply *s)
{
	struct timespec end;
	uint64_t want;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ANSWER_MS / 1000;
	pthread_mutex_lock(&snap.lock);
	want = snap.gen + 1;
	snap.asked = true;
	/* A full counter (never, at 2^64 - 2) would fail the write: the wait times out. */
	eventfd_write(snap.efd, 1);
	while (snap.gen < want) {
		if (pthread_cond_timedwait(&snap.done, &snap.lock, &end) == ETIMEDOUT) {
			pthread_mutex_unlock(&snap.lock);
			return -ETIMEDOUT;
		}
	}
	if (status_reply_parse(snap.body, snap.len, s) < 0) {
		pthread_mutex_unlock(&snap.lock);
		return -EBADMSG;
	}
	return 0;
}

/* A name from a record, cut at its field and made a plain JSON string or key. */
static const char *plain(char out[DMAD_PROTO_NAME_MAX], const char *name)
{
	size_t i;

	for (i = 0; i < DMAD_PROTO_NAME_MAX - 1 && name[i]; i++)
		out[i] = name[i] == '"' || name[i] == '\\' || (unsigned char)name[i] < 0x20 ||
					 (unsigned char)name[i] >= 0x7f
				 ? '?'
				 : name[i];
	out[i] = '\0';
	return out;
}

static int on_status(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char name[DMAD_PROTO_NAME_MAX];
	struct status_reply s;
	int r = fetch(&s);

	(void)cmd, (void)params;
	if (r < 0)
		return r;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "ops", s.sum->ops);
	rte_tel_data_add_dict_u64(d, "bytes", s.sum->bytes);
	rte_tel_data_add_dict_u64(d, "devices", s.sum->ndev);
	rte_tel_data_add_dict_u64(d, "clients", s.sum->nclient);
	rte_tel_data_add_dict_u64(d, "channels", s.sum->nchan);
	rte_tel_data_add_dict_int(d, "truncated", !!(s.sum->flags & DMAD_PROTO_LIST_TRUNCATED));
	if (s.log_level >= 0)
		rte_tel_data_add_dict_string(d, "log_level", log_level_name(s.log_level));
	for (uint32_t i = 0; i < s.sum->ndev; i++) {
		const struct dmad_proto_dev_info *di = &s.dev[i];
		struct rte_tel_data *dev = rte_tel_data_alloc();

		if (!dev)
			break;
		rte_tel_data_start_dict(dev);
		rte_tel_data_add_dict_string(dev, "driver", plain(name, di->driver));
		rte_tel_data_add_dict_string(dev, "state", status_state_name(di->state));
		rte_tel_data_add_dict_u64(dev, "dev_id", di->dev_id);
		rte_tel_data_add_dict_u64(dev, "ops", di->ops);
		rte_tel_data_add_dict_u64(dev, "bytes", di->bytes);
		rte_tel_data_add_dict_u64(dev, "errors", di->errors);
		rte_tel_data_add_dict_u64(dev, "channels", di->channels);
		rte_tel_data_add_dict_u64(dev, "copybreak", di->copybreak);
		rte_tel_data_add_dict_u64(dev, "worker", di->worker);
		/* keep 0: DPDK frees it with the reply. */
		if (rte_tel_data_add_dict_container(d, plain(name, di->name), dev, 0) < 0)
			rte_tel_data_free(dev);
	}
	pthread_mutex_unlock(&snap.lock);
	return 0;
}

static int on_clients(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char name[DMAD_PROTO_NAME_MAX], id[16];
	struct status_reply s;
	int r = fetch(&s);

	(void)cmd, (void)params;
	if (r < 0)
		return r;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "truncated",
				  s.sum->nclient > CLIENTS_MAX ||
					  (s.sum->flags & DMAD_PROTO_LIST_TRUNCATED));
	for (uint32_t i = 0; i < s.sum->nclient && i < CLIENTS_MAX; i++) {
		const struct dmad_proto_client_info *ci = &s.client[i];
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (!c)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "name", plain(name, ci->name));
		rte_tel_data_add_dict_int(c, "pid", ci->pid);
		rte_tel_data_add_dict_u64(c, "uid", ci->uid);
		rte_tel_data_add_dict_u64(c, "channels", ci->channels);
		rte_tel_data_add_dict_u64(c, "regions", ci->regions);
		rte_tel_data_add_dict_u64(c, "bytes_mapped", ci->bytes_mapped);
		snprintf(id, sizeof(id), "%u", ci->client_id);
		if (rte_tel_data_add_dict_container(d, id, c, 0) < 0)
			rte_tel_data_free(c);
	}
	pthread_mutex_unlock(&snap.lock);
	return 0;
}

void telemetry_init(void)
{
	pthread_condattr_t attr;
	int r;

	/* Timed waits on the monotonic clock: a clock step must not stretch them. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&snap.done, &attr);
	pthread_condattr_destroy(&attr);
	snap.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (snap.efd < 0) {
		log_warning_errno(-errno, "no dmad commands in DPDK telemetry: eventfd: %m");
		return;
	}
	r = rte_telemetry_register_cmd("/dmad/status", on_status,
				       "dmad's totals and devices. No parameters");
	if (r == 0)
		r = rte_telemetry_register_cmd("/dmad/clients", on_clients,
					       "dmad's clients, by id. No parameters");
	if (r < 0)
		log_warning_errno(r, "cannot register dmad's telemetry commands: %m");
}
