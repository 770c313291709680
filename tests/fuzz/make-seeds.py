#!/usr/bin/env python3
"""Write the seed inputs of tests/fuzz/corpus/ (the formats are described
at the top of each fuzz-*.c). Seeds are committed; run this again only when
a format or the protocol changes. Regression inputs (regress-*) are the
crashes fuzzing found and are kept as they were found, not generated here.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAGIC = 0x44414D44
HELLO, REG, UNREG, GET, PUT, RX_OPEN, RX_CLOSE = 1, 2, 3, 4, 5, 6, 7
STATUS, REMOVE, ADD, FAULT, LOG_LEVEL, FLOWS, RESET, MONITOR, EVENT = 64, 65, 66, 67, 68, 69, 70, 71, 128
SHARE_SET, SHARES = 72, 73


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def hdr(t, body, seq=1, flags=0, status=0):
    return struct.pack("<IHHHHIIi", MAGIC, 1, 0, t, flags, seq, len(body), status) + body


def name(s, n=32):
    return s.encode().ljust(n, b"\0")


# validate: n, k | flags, k x (slot, 5-byte len), then the descriptor.
def desc(op, src, src_off, dst, dst_off, length, flags=0):
    return struct.pack("<BBHIIHHQQ", op, flags, src, 0, length, dst, 0, src_off, dst_off)


def regions(n, *slots):
    out = bytes([n, len(slots)])
    for slot, length in slots:
        out += bytes([slot]) + length.to_bytes(5, "little")
    return out


two = regions(4, (0, 65536), (2, 4096))
write("validate", "copy-ok", two + desc(1, 0, 0, 2, 0, 4096))
write("validate", "copy-same-region", two + desc(1, 0, 0, 0, 4096, 4096))
write("validate", "fill-ok", two + desc(2, 0, 0x5A5A5A5A5A5A5A5A, 0, 128, 64))
write("validate", "copy-past-end", two + desc(1, 0, 65535, 2, 0, 2))
write("validate", "off-wraps", two + desc(1, 0, 2**64 - 1, 2, 0, 16))
write("validate", "free-slot", two + desc(1, 1, 0, 2, 0, 16))
write("validate", "no-table", bytes([4, 0x80]) + desc(1, 0, 0, 2, 0, 16))


# control: records of {spec, 2-byte length, message}; spec bit 7 fixes headers.
def rec(msg, spec=0x80, nfds=0, kind=0):
    spec |= nfds | kind << 3
    return bytes([spec]) + struct.pack("<H", len(msg)) + msg


hello = rec(hdr(HELLO, name("fuzz")))
reg = rec(hdr(REG, struct.pack("<Q", 4096), 2), nfds=1, kind=0)
get = rec(hdr(GET, struct.pack("<II", 1, 0), 3))
write("control", "hello", hello)
write("control", "session",
      hello + reg + get + rec(hdr(STATUS, b"", 4)) +
      rec(hdr(UNREG, struct.pack("<II", 0, 0), 5)) +
      rec(hdr(PUT, struct.pack("<II", 1, 0), 6)))
write("control", "before-hello", get + hello)
write("control", "admin",
      hello + rec(hdr(REMOVE, name("dma_skeleton0") + struct.pack("<II", 100, 0), 2)) +
      rec(hdr(FAULT, name("dma_skeleton0") + struct.pack("<II", 1, 0), 3)) +
      rec(hdr(ADD, name("dma_skeleton9", 128), 4)))
write("control", "rx",
      hello + rec(hdr(RX_OPEN, name("lo", 16) + struct.pack("<IHBBIIII", 0, 9000, 17, 0, 2048,
                                                             64, 0, 0), 2)) +
      rec(hdr(FLOWS, b"", 3)) + rec(hdr(RX_CLOSE, struct.pack("<II", 1, 0), 4)))
write("control", "log-level", hello + rec(hdr(LOG_LEVEL, struct.pack("<II", 7, 0), 2)))
write("control", "reset-failed", hello + rec(hdr(RESET, name("dma_skeleton0"), 2)) +
      rec(hdr(RESET, name(""), 3)))
write("control", "shares",
      hello + get + rec(hdr(SHARE_SET, struct.pack("<IIIIQ", 1, 1, 1, 0, 300), 3)) +
      rec(hdr(SHARE_SET, struct.pack("<IIIIQ", 2, 0, 2, 0, 50 << 20), 4)) +
      rec(hdr(SHARES, b"", 5)))
write("control", "not-admin", hello + rec(hdr(STATUS, b"", 2), spec=0xC0))
write("control", "monitor", hello + rec(hdr(MONITOR, b"", 2)) + rec(hdr(STATUS, b"", 3)))
for kind, what in enumerate(["sealed", "sealed-4k", "unsealed", "pipe", "dir", "opath",
                             "devnull", "empty"]):
    write("control", "reg-" + what, hello + rec(hdr(REG, struct.pack("<Q", 65536), 2),
                                                 nfds=1, kind=kind))
write("control", "reg-two-fds", hello + rec(hdr(REG, struct.pack("<Q", 4096), 2), nfds=2))
write("control", "reg-nine-fds", hello + rec(hdr(REG, struct.pack("<Q", 4096), 2), nfds=5))
write("control", "short-header", hello + rec(b"DMAD\x01\x00", spec=0))
write("control", "lying-length", hello + rec(hdr(GET, struct.pack("<II", 1, 0))[:-4], spec=0))
write("control", "huge", hello + rec(hdr(HELLO, bytes(4200)), spec=0))


# dmactl: arguments ended by an empty one, then {flags, 2-byte length, message}.
def rep(body, flags=1, status=0):
    m = hdr(0, body, flags=1, status=status)
    return bytes([flags]) + struct.pack("<H", len(m)) + m


hello_rep = rep(struct.pack("<IIIIQ", 1, 256, 256, 64, 64 << 30))
st = struct.pack("<IIIIQQ", 1, 1, 1, 0, 5, 100)
dev = name("dma_skeleton0") + name("dma_skeleton") + struct.pack(
    "<QQQQIIIIIIII", 1 << 32 | 1 << 34, 5, 100, 0, 0, 0, 1, 1, 256, 0, 0, 0)
cli = name("bystander") + struct.pack("<QIiIIII", 1 << 20, 1, 123, 0, 1, 2, 0)
chan = name("dma_skeleton0") + struct.pack("<QQQIIII", 5, 100, 0, 1, 1, 256, 0)
moved = struct.pack("<QQII", 1000, 20, 1, 0) + name("cpu") + struct.pack("<QII", 20, 1, 1)
write("dmactl", "status", b"status\0\0" + hello_rep + rep(st + dev + cli + chan))
write("dmactl", "status-json-event",
      b"--json\0status\0\0" + hello_rep + rep(bytes(80), flags=2) + rep(st + dev + cli + chan))
write("dmactl", "clients-json", b"clients\0--json\0\0" + hello_rep + rep(st + dev + cli + chan))
write("dmactl", "remove", b"remove\0dma_skeleton0\0--timeout\0100\0\0" + hello_rep + rep(moved))
write("dmactl", "add", b"add\0dma_skeleton2\0\0" + hello_rep +
      rep(name("dma_skeleton2") + struct.pack("<II", 1, 0)))
write("dmactl", "fault", b"fault\0dma_skeleton0\0hang\0\0" + hello_rep + rep(b""))
flows = struct.pack("<II", 1, 0) + name("lo", 16) + name("dma_skeleton0") + bytes(64) + \
    struct.pack("<IIIHBBIIII", 1, 1, 0, 9000, 17, 2, 2048, 64, 3, 0)
write("dmactl", "flows-json", b"flows\0--json\0\0" + hello_rep + rep(flows))
write("dmactl", "log-level", b"log-level\0debug\0\0" + hello_rep + rep(b""))
write("dmactl", "set", b"set\0" b"1\0weight\0" b"300\0\0" + hello_rep + rep(b""))
write("dmactl", "set-uid-rate", b"--json\0set\0uid=0\0rate\0" b"50M\0\0" + hello_rep + rep(b""))
write("dmactl", "refused", b"status\0\0" + hello_rep + rep(b"", status=-13))
# Protocol 1.3: the status tail, no quota rows, the totals, one released device.
released = name("dma_skeleton1") + name("dma_skeleton") + name("stopped completing", 96) + \
    struct.pack("<QQQQII", 1_700_000_000_000_000, 7, 700, 1, 5, 0)
after = struct.pack("<II", 6, 0) + struct.pack("<II", 0, 0) + \
    struct.pack("<QQQII", 12, 800, 1, 1, 1) + released
write("dmactl", "status-released", b"status\0\0" + hello_rep + rep(st + dev + cli + chan + after))
write("dmactl", "status-released-dev", b"--json\0status\0dma_skeleton1\0\0" + hello_rep +
      rep(st + dev + cli + chan + after))
write("dmactl", "reset-failed", b"reset-failed\0dma_skeleton1\0\0" + hello_rep + rep(b""))
# Protocol 1.7: then each client's totals and one gone client.
gone = struct.pack("<II", 1, 1) + struct.pack("<QQQII", 18912, 1 << 30, 2, 1, 0) + \
    name("copier") + struct.pack("<QQQQIiII", 1_700_000_000_000_000, 12416, 1 << 29, 0, 2, 77, 0, 0)
write("dmactl", "status-gone-clients", b"status\0\0" + hello_rep +
      rep(st + dev + cli + chan + after + gone))
write("dmactl", "status-gone-clients-json", b"--json\0status\0\0" + hello_rep +
      rep(st + dev + cli + chan + after + gone))
write("dmactl", "add-reason", b"add\0bogus\0\0" + hello_rep +
      rep(name('EAL: failed to parse device "bogus"', 256), status=-19))
tail = struct.pack("<II", 6, 0)
quotas = struct.pack("<II", 2, 0) + struct.pack("<IIQQ", 0, 0, 1, 100) + \
    struct.pack("<IIQQ", 4, 0xffffffff, 1 << 20, (1 << 64) - 1)
write("dmactl", "metrics", b"metrics\0\0" + hello_rep + rep(st + dev + cli + chan + tail + quotas))


def mon_event(t, count, device="", to="", who="", detail=""):
    ev = struct.pack("<QQIIIiII", 1796171782603009070, count, t, 2, 1, 123, 0, 0) + \
        name(device) + name(to) + name(who) + name(detail, 64)
    m = hdr(129, ev, seq=0)
    return bytes([0]) + struct.pack("<H", len(m)) + m


write("dmactl", "monitor-json", b"monitor\0--json\0\0" + hello_rep + rep(b"") +
      mon_event(7, 0, who="bystander") + mon_event(6, 20, "dma_skeleton0", "cpu") +
      mon_event(4, 0, "dma_skeleton0", detail="stopped completing") + mon_event(1, 5))


# handover: the state itself; fds FD_BASE + kind are real ones in the target.
FD_BASE = 100
LISTEN, CLIENT, REGION, RING, DOORBELL = 1, 2, 3, 4, 5
RX_AREA, RX_EVENT, XSK, UMEM, BPF_LINK, BPF_MAP = 6, 7, 8, 9, 10, 11


def ext(nclients, uids=(), released=(), gone=(), rxifs=(), rxsocks=(), rxflows=(),
        next_flow_id=0, totals=(0, 0, 0), cexts=None):
    """The settings, totals and flows part (daemon/handover_ext.h)."""
    if cexts is None:
        cexts = [struct.pack("<IIQQQQ", 0, 0, 0, 0, 0, 0)] * nclients
    h = struct.pack("<HHHHHHHHIIIIIIIIQQQ", 72, 40, 16, 200, 80, 40, 24, 120,
                    len(uids), len(released), len(gone), len(rxifs), len(rxsocks),
                    len(rxflows), next_flow_id, 0, *totals)
    return h + b"".join(list(cexts) + list(uids) + list(released) + list(gone) +
                        list(rxifs) + list(rxsocks) + list(rxflows))


def state(clients, regions, chans, fds, devices=(), listen=0, version=3, cut=0, tail=None):
    body = b"".join(list(clients) + list(regions) + list(chans) + list(devices) + list(fds))
    body += ext(len(clients)) if tail is None else tail
    n = 72 + len(body)
    h = struct.pack("<IHHIIHHHHIIIIIIQQHHI", 0x4F484D44, version, 72, n, 0, 48, 24, 96, 8,
                    len(clients), len(regions), len(chans), len(fds), listen, 0,
                    1000, 1, 40, 0, len(devices))
    out = h + body
    return out[:len(out) - cut]


def fd(kind, num=None):
    return struct.pack("<Ii", kind, FD_BASE + kind if num is None else num)


ho_client = struct.pack("<IIII", 7, 1, 1, 1) + name("copier")
ho_region = struct.pack("<IIQII", 0, 0, 4096, 2, 0)
ho_chan = struct.pack("<IIIIIIIIIIQQQ", 0, 1, 1, 65536, 3, 4, 5, 0, 1, 0, 5, 100, 0) + \
    name("dma_skeleton0")
ho_dev = name("dma_skeleton0") + struct.pack("<II", 4096, 0)
ho_fds = [fd(LISTEN), fd(CLIENT), fd(REGION), fd(RING), fd(DOORBELL)]
write("handover", "empty", state([], [], [], [fd(LISTEN)]))
write("handover", "session", state([ho_client], [ho_region], [ho_chan], ho_fds, [ho_dev]))
write("handover", "truncated",
      state([ho_client], [ho_region], [ho_chan], ho_fds, [ho_dev], cut=9))
write("handover", "version-1",
      state([ho_client], [ho_region], [ho_chan], ho_fds, [ho_dev], version=1))
write("handover", "wrong-kind",
      state([ho_client], [ho_region], [ho_chan],
            ho_fds[:3] + [fd(RING, FD_BASE + DOORBELL), fd(DOORBELL, FD_BASE + RING)]))

# A client with settings and totals, one flow on one AF_XDP socket.
ho_rx_fds = [fd(LISTEN), fd(CLIENT), fd(BPF_LINK), fd(BPF_MAP), fd(BPF_MAP, 120),
             fd(BPF_MAP, 121), fd(XSK), fd(UMEM), fd(RX_AREA), fd(RX_EVENT)]
ho_rxif = name("dmrx0", 16) + struct.pack("<IIIIII", 2, 3, 4, 5, 1, 0)
ho_rxsock = struct.pack("<IIIIQ", 0, 0, 6, 7, 0)
ho_stats = struct.pack("<8Q", 100, 51200, 1, 0, 0, 90, 10, 0)
ho_rxflow = struct.pack("<IIIHBBIIIIIIIIQ", 0, 1, 0, 7000, 17, 0, 2048, 64, 0, 8, 9, 100, 101,
                        0, 1) + ho_stats
ho_cext = struct.pack("<IIQQQQ", 7, 1, 1 << 20, 3, 4096, 0)
ho_uid = struct.pack("<IIQ", 4242, 0, 64 << 20)
ho_released = name("dma_skeleton1") + name("dma_skeleton") + name("removed on request", 96) + \
    struct.pack("<QQQQII", 1, 5, 500, 0, 4, 0)
ho_gone = name("copier") + struct.pack("<QQQQIIII", 1, 12, 4096, 0, 2, 0, 0, 0)


def rx_tail(queue=0, kinds_ok=True, **kw):
    sock = struct.pack("<IIIIQ", 0, queue, 6, 7, 0)
    return ext(1, uids=[ho_uid], released=[ho_released], gone=[ho_gone], rxifs=[ho_rxif],
               rxsocks=[sock], rxflows=[ho_rxflow], next_flow_id=1, totals=(1000, 1 << 20, 0),
               cexts=[ho_cext], **kw)


write("handover", "rx-flow", state([ho_client], [], [], ho_rx_fds, tail=rx_tail()))
write("handover", "rx-queue-out-of-range",
      state([ho_client], [], [], ho_rx_fds, tail=rx_tail(queue=64)))
write("handover", "rx-xsk-wrong-kind",
      state([ho_client], [], [], ho_rx_fds[:6] + [fd(XSK, FD_BASE + RX_EVENT)] +
            ho_rx_fds[7:9] + [fd(RX_EVENT, FD_BASE + XSK)], tail=rx_tail()))

# journal: the session journal, a header page then a state, its names and
# (version 2) the clients' last answers.
def journal(st, names, sel=0, off=4096, version=2, cut=0, replies=()):
    slot = struct.pack("<QQQQQ", off, len(st), len(names), 3, len(replies))
    empty = struct.pack("<QQQQQ", 0, 0, 0, 0, 0)
    slots = slot + empty if sel == 0 else empty + slot
    h = struct.pack("<IIII", 0x564C4D44, version, sel, 0) + slots
    body = st + b"".join(n.encode().ljust(48, b"\0") for n in names) + b"".join(replies)
    out = h.ljust(off, b"\0") + body
    return out[:len(out) - cut]


def reply(client_id, seq, t, status=0, body=b""):
    return struct.pack("<IIHHi", client_id, seq, t, len(body), status) + body.ljust(256, b"\0")


jo_names = ["dmad-live-0123456789abcdef-%d" % n for n in (3, 4, 5, 6, 7)]
jo_state = state([ho_client], [ho_region], [ho_chan], ho_fds, [ho_dev])
write("journal", "session", journal(jo_state, jo_names))
write("journal", "slot-1", journal(jo_state, jo_names, sel=1))
write("journal", "none-yet", journal(b"", []))
write("journal", "truncated", journal(jo_state, jo_names, cut=20))
write("journal", "version-1", journal(jo_state, jo_names, version=1))
write("journal", "replies", journal(jo_state, jo_names, replies=[
    reply(1, 7, GET, body=struct.pack("<IIII", 1, 4096, 256, 0) + name("dma_skeleton0")),
    reply(1, 8, REG, status=-122),
    reply(0, 0, 99, status=5, body=b"x" * 300)]))
write("journal", "replies-cut", journal(jo_state, jo_names, cut=100,
                                        replies=[reply(1, 2, HELLO, body=b"\0" * 24)]))
# A flow as the journal carries it while dmad runs: positions and counters 0
# (the rx ledger in the UMEM has them), every rx fd named.
jo_rxflow = struct.pack("<IIIHBBIIIIIIIIQ", 0, 1, 0, 7000, 17, 0, 2048, 64, 0, 8, 9, 0, 0, 0,
                        0) + bytes(64)
jo_rx_sock = struct.pack("<IIIIQ", 0, 0, 6, 7, 0)
jo_rx_names = ["dmad-live-0123456789abcdef-%d" % n for n in range(3, 3 + len(ho_rx_fds))]


def jo_rx_tail(sock=jo_rx_sock):
    return ext(1, rxifs=[ho_rxif], rxsocks=[sock], rxflows=[jo_rxflow], next_flow_id=1,
               cexts=[ho_cext])


write("journal", "rx-flow",
      journal(state([ho_client], [], [], ho_rx_fds, tail=jo_rx_tail()), jo_rx_names))
write("journal", "rx-queue-out-of-range",
      journal(state([ho_client], [], [], ho_rx_fds,
                    tail=jo_rx_tail(struct.pack("<IIIIQ", 0, 64, 6, 7, 0))), jo_rx_names))
write("journal", "bad-names", journal(jo_state, ["dmad-live-xyz-3", "", "dmad-fd-1",
                                                  "dmad-live-0123456789abcdef-99999999999",
                                                  "x" * 48]))
