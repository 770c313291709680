#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dmactl restart while a client has a long queue in its ring (a rate
limit keeps it there): the restart finishes only what the engines hold and
hands the rest of each ring over, so the queue is still waiting when the
restart has answered, instead of being served by the old dmad while every
client stalls; nor does the new dmad's bridge, which serves the rings
while EAL starts, take it past the rate (the uid's rate is --user-share's,
which the new dmad has too; one set with dmactl is not carried over). Once
the rate is lifted, every copy completes on the new dmad, with the right
bytes, and the client sees no error."""
import ctypes
import os
import sys

from dmadrun import Dmad, Tap, dmactl

COPIES = 384
SIZE = 64 << 10  # 24 MiB in all: 12 s at the rate below
RATE = "2M"
DMAC_IN_PROGRESS, DMAC_COMPLETE = 1, 0


def main():
    tap = Tap()
    d = Dmad(tap, "--engines", "1", "--user-share", "%d:rate=%s" % (os.getuid(), RATE))
    lib = ctypes.CDLL(os.environ["LIBDMACLIENT"])
    lib.dmac_region_alloc.restype = ctypes.c_void_p
    lib.dmac_region_alloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.dmac_memcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_size_t, ctypes.c_uint]
    lib.dmac_issue_pending.argtypes = [ctypes.c_void_p]
    lib.dmac_is_complete.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    lib.dmac_wait.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int]
    lib.dmac_chan_set_copybreak.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.dmac_disconnect.argtypes = [ctypes.c_void_p]
    client, chan = ctypes.c_void_p(), ctypes.c_void_p()
    r = lib.dmac_connect(d.socket.encode(), b"queued", ctypes.byref(client))
    src = lib.dmac_region_alloc(client, COPIES * SIZE) if r == 0 else None
    dst = lib.dmac_region_alloc(client, COPIES * SIZE) if r == 0 else None
    r = r or lib.dmac_chan_get(client, 1, ctypes.byref(chan))  # DMAC_CAP_COPY
    if not tap.ok(r == 0 and src and dst, "a client with two regions and a channel (%d)" % r):
        return tap.done()
    lib.dmac_chan_set_copybreak(chan, 0)
    pattern = os.urandom(COPIES * SIZE)
    ctypes.memmove(src, pattern, len(pattern))
    ctypes.memset(dst, 0, len(pattern))
    cookies = [lib.dmac_memcpy(chan, dst + i * SIZE, src + i * SIZE, SIZE, 0)
               for i in range(COPIES)]
    lib.dmac_issue_pending(chan)
    tap.ok(all(c >= 0 for c in cookies), "%d copies of %d KiB issued" % (COPIES, SIZE >> 10))

    code, out, err = dmactl(d, "restart")
    tap.ok(code == 0, "dmactl restart (%d: %s)" % (code, (out + err).strip()))
    state = lib.dmac_is_complete(chan, cookies[-1])
    tap.ok(state == DMAC_IN_PROGRESS,
           "the last copy still waits after the restart: the queue was handed over, "
           "not drained first (%d)" % state)

    code, _, err = dmactl(d, "set", "uid=%d" % os.getuid(), "rate", "0")
    tap.ok(code == 0, "dmactl set uid=%d rate 0 lifts the rate (%d %s)" % (os.getuid(), code,
                                                                         err.strip()))
    r = lib.dmac_wait(chan, cookies[-1], 60000)
    tap.ok(r == 0, "then every copy completes on the new dmad (%d)" % r)
    done = sum(lib.dmac_is_complete(chan, c) == DMAC_COMPLETE for c in cookies)
    tap.ok(done == COPIES, "each cookie reports DMAC_COMPLETE (%d of %d)" % (done, COPIES))
    tap.ok(ctypes.string_at(dst, len(pattern)) == pattern, "every destination byte is right")
    lib.dmac_disconnect(client)
    tap.ok(d.stop() == 0, "dmad exits 0 on SIGTERM")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
