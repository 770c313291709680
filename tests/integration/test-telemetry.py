#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dmad's commands in DPDK telemetry, asked the way dpdk-telemetry.py asks:
connect to DIR/dpdk/rte/dpdk_telemetry.v2 (SOCK_SEQPACKET), read the
greeting JSON, send a command, read one JSON reply. /dmad/status counts a
client's copies on its device, /dmad/clients lists the client with its pid,
both sit beside DPDK's own /dmadev/stats, and many queries while the client
copies all get whole answers. dmad removes the socket when it stops."""
import json
import os
import socket
import sys
import threading

from dmadrun import Client, Dmad, Tap

COPIES = 64
SIZE = 8192
NAME = b"telemetry-probe"


class Telemetry:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.hello = json.loads(self.sock.recv(16384).decode())
        self.max = self.hello.get("max_output_len", 16384)

    def ask(self, cmd):
        self.sock.send(cmd.encode())
        return json.loads(self.sock.recv(self.max).decode())[cmd.split(",")[0]]

    def close(self):
        self.sock.close()


def main():
    tap = Tap()
    d = Dmad(tap, "--engines", "1")
    path = os.path.join(d.dir, "dpdk", "rte", "dpdk_telemetry.v2")
    t = Telemetry(path)
    tap.ok(t.hello.get("version", "").startswith("DPDK") and t.hello.get("pid") == d.proc.pid,
           "the greeting names DPDK and dmad's pid: %s" % t.hello)
    commands = t.ask("/")
    tap.ok("/dmad/status" in commands and "/dmad/clients" in commands and
           "/dmadev/stats" in commands, "/dmad/status and /dmad/clients beside /dmadev/stats")

    client = Client(d.socket, NAME, COPIES, SIZE)
    tap.ok(client.copy_all(), "a client made %d copies of %d bytes, each checked" % (COPIES, SIZE))
    st = t.ask("/dmad/status")
    dev = st.get("dma_skeleton0", {})
    tap.ok(dev.get("state") == "ONLINE" and dev.get("driver") == "dma_skeleton",
           "/dmad/status: dma_skeleton0 ONLINE (%s)" % dev)
    tap.ok(dev.get("ops") == COPIES and dev.get("bytes") == COPIES * SIZE and
           st.get("ops") == COPIES, "/dmad/status: %d ops, %d bytes on the device and in all (%s, %s)"
           % (COPIES, COPIES * SIZE, dev.get("ops"), st.get("ops")))
    stats = t.ask("/dmadev/stats,0")
    tap.ok(isinstance(stats, dict) and stats.get("completed", -1) >= COPIES,
           "DPDK's /dmadev/stats,0 agrees the engine completed them (%s)" % stats)
    clients = t.ask("/dmad/clients")
    mine = [c for c in clients.values() if isinstance(c, dict) and c.get("name") == NAME.decode()]
    tap.ok(len(mine) == 1 and mine[0].get("pid") == os.getpid() and mine[0].get("channels") == 1
           and mine[0].get("regions") == 2, "/dmad/clients: ours, with our pid (%s)" % mine)

    # Queries race the copies and the control loop: each answer comes whole.
    bad = []

    def hammer():
        try:
            q = Telemetry(path)
            for _ in range(50):
                if not isinstance(q.ask("/dmad/status").get("dma_skeleton0"), dict):
                    bad.append("no device")
            q.close()
        except Exception as e:  # anything at all is a failure here
            bad.append(repr(e))

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for th in threads:
        th.start()
    copied = all(client.copy_all() for _ in range(5))
    for th in threads:
        th.join(60)
    tap.ok(copied and not bad, "100 queries from 2 connections while copying: all whole (%s)"
           % bad[:3])
    client.close()
    t.close()
    tap.ok(d.stop() == 0 and not os.path.exists(path) and
           not os.path.exists(os.path.join(d.dir, "dpdk")),
           "dmad exits 0 and removes its telemetry socket and directories")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
