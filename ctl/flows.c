/* SPDX-License-Identifier: MIT */
/*
 * `dmactl flows`: the receive offload's flows with their counters, from one
 * FLOWS request. The reply is checked against its own count before any
 * record is read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "dmad_proto.h"
#include "dmad_rx.h"
#include "dmactl.h"
#include "format.h"
#include "json.h"

static const char *xdp_mode_name(uint8_t mode)
{
	switch (mode) {
	case DMAD_RX_XDP_NATIVE:
		return "native";
	case DMAD_RX_XDP_GENERIC:
		return "generic";
	}
	return "?";
}

static const char *proto_name(uint8_t proto)
{
	return proto == DMAD_RX_UDP ? "udp" : "?";
}

static uint64_t drops(const struct dmad_rx_stats *s)
{
	return s->drop_no_slot + s->drop_too_large + s->drop_dma_error + s->kernel_drops;
}

static void flow_row(const void *ctx, size_t i, char cell[][CELL_MAX])
{
	const struct dmad_proto_flow_info *f = (const struct dmad_proto_flow_info *)ctx + i;

	fmt_u64(cell[0], f->client_id);
	fmt_u64(cell[1], f->flow_id);
	fmt_name(cell[2], f->ifname, sizeof(f->ifname));
	fmt_u64(cell[3], f->queue);
	snprintf(cell[4], CELL_MAX, "%s/%u", proto_name(f->proto), f->port);
	snprintf(cell[5], CELL_MAX, "%s", xdp_mode_name(f->xdp_mode));
	if (f->device[0])
		fmt_name(cell[6], f->device, sizeof(f->device));
	else
		snprintf(cell[6], CELL_MAX, "cpu");
	snprintf(cell[7], CELL_MAX, "%u/%u", f->held, f->slot_count);
	fmt_u64(cell[8], f->stats.packets);
	fmt_bytes(cell[9], f->stats.bytes);
	fmt_u64(cell[10], f->stats.dma_copies);
	fmt_u64(cell[11], f->stats.cpu_copies);
	fmt_u64(cell[12], drops(&f->stats));
	snprintf(cell[13], CELL_MAX, "%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64,
		 f->stats.drop_no_slot, f->stats.drop_too_large, f->stats.drop_dma_error,
		 f->stats.kernel_drops);
}

static void print_table(const struct dmad_proto_flow_info *f, uint32_t n, bool no_legend)
{
	static const struct table_col cols[] = {
		{"CLIENT", ALIGN_RIGHT},  {"FLOW", ALIGN_RIGHT},
		{"IFACE", ALIGN_LEFT},	  {"QUEUE", ALIGN_RIGHT},
		{"MATCH", ALIGN_LEFT},	  {"XDP", ALIGN_LEFT},
		{"DEVICE", ALIGN_LEFT},	  {"SLOTS", ALIGN_RIGHT},
		{"PACKETS", ALIGN_RIGHT}, {"BYTES", ALIGN_RIGHT},
		{"DMA", ALIGN_RIGHT},	  {"CPU", ALIGN_RIGHT},
		{"DROPS", ALIGN_RIGHT},	  {"NOSLOT/BIG/DMAERR/KERNEL", ALIGN_LEFT},
	};

	if (!n && !no_legend) {
		printf("no flows\n");
		return;
	}
	table_print(stdout, cols, sizeof(cols) / sizeof(cols[0]), n, flow_row, f, !no_legend);
}

static void print_json(const struct dmactl *o, const struct dmad_proto_flow_info *fi, uint32_t n,
		       uint32_t flags)
{
	struct json j = DMACTL_JSON(o);

	json_object_begin(&j, NULL);
	json_array_begin(&j, "flows");
	for (uint32_t i = 0; i < n; i++) {
		const struct dmad_proto_flow_info *f = &fi[i];

		json_object_begin(&j, NULL);
		json_u64(&j, "client_id", f->client_id);
		json_u64(&j, "flow_id", f->flow_id);
		json_stringn(&j, "interface", f->ifname, sizeof(f->ifname));
		json_u64(&j, "queue", f->queue);
		json_string(&j, "proto", proto_name(f->proto));
		json_u64(&j, "port", f->port);
		json_string(&j, "xdp_mode", xdp_mode_name(f->xdp_mode));
		json_stringn(&j, "device", f->device, sizeof(f->device));
		json_u64(&j, "slot_size", f->slot_size);
		json_u64(&j, "slot_count", f->slot_count);
		json_u64(&j, "held", f->held);
		json_u64(&j, "packets", f->stats.packets);
		json_u64(&j, "bytes", f->stats.bytes);
		json_u64(&j, "dma_copies", f->stats.dma_copies);
		json_u64(&j, "cpu_copies", f->stats.cpu_copies);
		json_object_begin(&j, "drops");
		json_u64(&j, "no_slot", f->stats.drop_no_slot);
		json_u64(&j, "too_large", f->stats.drop_too_large);
		json_u64(&j, "dma_error", f->stats.drop_dma_error);
		json_u64(&j, "kernel", f->stats.kernel_drops);
		json_object_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_bool(&j, "truncated", flags & DMAD_PROTO_LIST_TRUNCATED);
	json_bool(&j, "own_only", flags & DMAD_PROTO_LIST_OWN_ONLY);
	json_object_end(&j);
}

int flows_main(struct dmactl *o, int argc, char **argv)
{
	const struct dmad_proto_flows *fl;
	struct ctl_reply rep;
	struct ctl_conn *c;
	int r;

	r = dmactl_args(o, argc, argv, NULL, 0, 0, NULL);
	if (r != DMACTL_CONTINUE)
		return r;
	r = dmactl_call(o, DMAD_PROTO_FLOWS, NULL, 0, DMACTL_TIMEOUT_MS, &c, &rep);
	if (r != DMACTL_EXIT_OK)
		return r;
	if (rep.status < 0) {
		ctl_close(c);
		if (rep.status != -EOPNOTSUPP)
			return dmactl_refused(o, rep.status);
		fprintf(stderr, "dmactl: dmad at %s was built without receive offload: no flows\n",
			o->socket);
		return DMACTL_EXIT_FAILED;
	}

	fl = rep.body;
	if (rep.len < sizeof(*fl) ||
	    rep.len < sizeof(*fl) + (uint64_t)fl->nflow * sizeof(struct dmad_proto_flow_info)) {
		fprintf(stderr, "dmactl: bad flows reply from dmad at %s: %u bytes\n", o->socket,
			rep.len);
		ctl_close(c);
		return DMACTL_EXIT_FAILED;
	}
	if (o->json)
		print_json(o, (const void *)(fl + 1), fl->nflow, fl->flags);
	else
		print_table((const void *)(fl + 1), fl->nflow, o->no_legend);
	if (fl->flags & DMAD_PROTO_LIST_TRUNCATED)
		fprintf(stderr, "dmactl: warning: dmad left flows out of its reply; "
				"the list is incomplete\n");
	if (fl->flags & DMAD_PROTO_LIST_OWN_ONLY)
		fprintf(stderr, "dmactl: note: other clients' flows are shown to admins only "
				"(" DMACTL_ADMIN_WHO ")\n");
	ctl_close(c);
	return DMACTL_EXIT_OK;
}
