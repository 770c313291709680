/* SPDX-License-Identifier: MIT */
/*
 * A client rewrites the fixed header of its receive area: the area is
 * mapped writable (the client writes its head and flags there), so nothing
 * in it binds dmad. With rec_offset aimed 4 GiB away, the rx thread used to
 * write each datagram's record there: outside the area, into whatever dmad
 * had mapped (another client's region) or nothing (SIGSEGV, every client
 * gone). dmad must keep writing records where it put them: the datagrams
 * arrive whole, in order, and another client never notices.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copier.h"
#include "harness.h"
#include "rawproto.h"
#include "rxnet.h"

#include "dmad_rx.h"

#define PORT	7331
#define SLOT	2048u
#define SLOTS	64u
#define N	16u
#define SIZE	100u
#define WAIT_MS 10000

/* RX_OPEN on @fd by hand; the area mapped writable at *ret_area. */
static int open_flow(int fd, struct dmad_rx_area **ret_area)
{
	struct dmad_proto_rx_open_req req = {.queue = 0,
					     .port = PORT,
					     .proto = DMAD_RX_UDP,
					     .slot_size = SLOT,
					     .slot_count = SLOTS};
	struct dmad_proto_rx_open_rep rep;
	static struct raw_msg m;
	void *p;
	int r;

	memcpy(req.ifname, RXNET_IF, sizeof(RXNET_IF));
	r = raw_request(fd, DMAD_PROTO_RX_OPEN, &req, sizeof(req), NULL, 0, &m);
	if (r != 0 || m.nfds != 2 || m.body_len < sizeof(rep))
		return r ? r : -EPROTO;
	memcpy(&rep, m.body, sizeof(rep));
	p = mmap(NULL, rep.area_size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fds[0], 0);
	close(m.fds[0]);
	close(m.fds[1]);
	if (p == MAP_FAILED)
		return -errno;
	*ret_area = p;
	return 0;
}

/* Records published, up to @n, within WAIT_MS (or until dmad is gone). */
static uint32_t wait_tail(struct harness_dmad *d, const struct dmad_rx_area *a, uint32_t n)
{
	int64_t end = harness_now_ms() + WAIT_MS;
	uint32_t tail;

	while ((tail = __atomic_load_n(&a->tail, __ATOMIC_ACQUIRE)) < n && harness_now_ms() < end &&
	       harness_dmad_alive(d))
		usleep(1000);
	return tail;
}

int main(void)
{
	static const uint32_t sizes[] = {SIZE};
	const struct dmad_rx_rec *rec;
	struct harness_dmad *d;
	struct dmad_rx_area *a = NULL;
	struct bystander b;
	uint32_t tail, good = 0;
	uint64_t data;
	int fd, r;
	pid_t pid;

	harness_watchdog(120);
	rxnet_setup();
	d = harness_dmad_start("--copybreak", "0", NULL);
	bystander_start(&b, d->socket);
	fd = raw_connect(d->socket);
	if (fd < 0 || raw_hello(fd, "rx-area-header") != 0)
		tap_bail("connect and HELLO");
	r = open_flow(fd, &a);
	if (r != 0)
		tap_bail("RX_OPEN: %d", r);
	ok(a->rec_offset == sizeof(*a), "the records start after the header (%u)", a->rec_offset);
	rec = (const struct dmad_rx_rec *)(a + 1);
	data = a->data_offset;

	/* Aimed far outside the area; dmad must not follow it. */
	a->rec_offset = 0xfffff000u;
	pid = rxnet_send(PORT, N, sizes, 1, 0);
	ok(harness_wait_child(pid, WAIT_MS, "sender"), "%u datagrams sent", N);
	tail = wait_tail(d, a, N);
	ok(harness_dmad_alive(d), "dmad lives");
	ok(tail == N, "%u records published (%u)", N, tail);
	for (uint32_t i = 0; i < tail && i < SLOTS; i++)
		good += rec[i].len == SIZE && rec[i].seq == i + 1 && !rec[i].flags &&
			rec[i].offset == data + (uint64_t)i * dmad_rx_stride(SLOT) &&
			rxnet_payload_ok((const uint8_t *)a + rec[i].offset, i, SIZE);
	ok(good == N, "each record where dmad put them, its datagram whole (%u of %u)", good, N);
	close(fd);
	ok(bystander_stop(&b), "another client's copies were all correct throughout");
	harness_dmad_finish(d);
	return tap_done();
}
