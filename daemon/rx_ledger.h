/* SPDX-License-Identifier: MIT */
/*
 * Where an AF_XDP socket's flows stand, for a dmad that died (crash-safe
 * mode, --fdstore; handover_live.h). The session journal is written by the
 * control thread and knows nothing of what the rx thread did since: the
 * rx thread keeps its own record, the ledger, in the page after the UMEM's
 * frames in the UMEM memfd (stored with the socket; dmad's own memory, no
 * client maps it).
 *
 * In crash-safe mode the rx thread takes a batch of whole datagrams off
 * the RX ring, waits until each is published or counted as dropped (every
 * copy landed), and only then commits, in this order: the ledger (the RX
 * ring position after the batch, each flow's records, sequence and
 * counters, the fill ring's producer before and after the batch's frames
 * go back: one of two snapshots, then the word that selects it), each
 * flow's area tail (the client sees the records), the frames back to the
 * fill ring (one producer store), the RX ring's consumer past the batch.
 * A dmad killed anywhere leaves a ledger that says what was committed;
 * the next one (rx_ledger_restore()) finishes the commit (the frames back,
 * unless the fill ring's producer shows they went; the consumer moved on),
 * resumes each flow where the ledger has it, and its rx thread takes the
 * datagrams after the ledger's position again, in order: what a dead dmad
 * published is never delivered twice, what it had not is delivered once.
 * Frames are never guessed at: only the batch's own go back, so a frame a
 * driver holds (zero-copy) is never in the fill ring twice.
 */
#ifndef DMAD_RX_LEDGER_H
#define DMAD_RX_LEDGER_H

#include <stdint.h>

#include "dmad_rx.h"

/* One per socket, after RX_FRAMES frames; a page multiple. */
#define RX_LEDGER_LEN	(64u << 10)
#define RX_LEDGER_FLOWS DMAD_RX_MAX_FLOWS

struct rx_ledger_flow {
	uint32_t id;   /* 0: none */
	uint32_t tail; /* records published */
	uint32_t seq;  /* datagrams that reached it */
	uint32_t rsvd;
	struct dmad_rx_stats st;
};

struct rx_ledger_snap {
	uint32_t rx_pos;    /* RX ring: every datagram before it is accounted for */
	uint32_t fq_before; /* fill ring producer before the batch's frames went back */
	uint32_t fq_after;  /* and after */
	uint32_t nflows;
	uint64_t unmatched;
	uint64_t commits;
	struct rx_ledger_flow flow[RX_LEDGER_FLOWS];
};

struct rx_ledger {
	uint32_t magic;
	uint32_t version;
	uint32_t sel; /* 0 or 1: the whole snapshot */
	uint32_t rsvd;
	struct rx_ledger_snap snap[2];
};

#define RX_LEDGER_MAGIC	  0x474c5244u /* "DRLG" */
#define RX_LEDGER_VERSION 1u

_Static_assert(sizeof(struct rx_ledger_flow) == 80, "ledger flow");
_Static_assert(sizeof(struct rx_ledger) <= RX_LEDGER_LEN, "ledger fits its pages");

struct rx_sock;
struct rx_flow_carried;

/* rx_ledger_begin() - before @s's rx thread starts, crash-safe mode: the
 * ledger says where the socket stands now, its flows included. */
void rx_ledger_begin(struct rx_sock *s);

/* rx_ledger_commit() - rx thread, crash-safe mode, nothing in flight: the
 * snapshot of @s with the RX ring at @rx_pos and @nframes frames about to
 * go back to the fill ring. Under @s's lock. */
void rx_ledger_commit(struct rx_sock *s, uint32_t rx_pos, uint32_t nframes);

/*
 * rx_ledger_restore() - control thread, after a crash, on a socket taken
 * from the store (rings mapped, thread not started): finish the dead
 * dmad's last commit and put the RX ring's consumer at its position.
 * Returns 0, or -EBADMSG when the ledger is absent or does not fit the
 * rings (the socket's flows cannot go on).
 */
int rx_ledger_restore(struct rx_sock *s);

/* rx_ledger_flow() - flow @id's positions and counters from @s's restored
 * ledger into @c (zero when it has none: made after the last commit). */
void rx_ledger_flow(const struct rx_sock *s, uint32_t id, struct rx_flow_carried *c);

#endif /* DMAD_RX_LEDGER_H */
