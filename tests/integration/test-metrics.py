#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dmad's counters as OpenMetrics, read by a real parser (Debian's
python3-prometheus-client): a client makes COPIES copies of SIZE bytes
through its ring (libdmaclient, through ctypes), then the --metrics-listen
endpoint (a unix socket, then loopback TCP) and `dmactl metrics` both parse
and count exactly those copies on its channel. An address off this host
is refused at start, and a scraper that stalls holds up no one."""
import http.client
import os
import socket
import subprocess
import sys
import tempfile

from dmadrun import Client, Dmad, Tap, child_env, dmactl, skip_all

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError:
    skip_all("python3-prometheus-client is not installed (scripts/setup.sh installs it)")

COPIES = 100
SIZE = 4096
NAME = b"metrics-probe"


def families(text):
    """{family name: [samples]}; raises on anything that is not OpenMetrics."""
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def value(fams, family, **labels):
    for s in fams.get(family, (None, []))[1]:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def check(tap, where, text):
    """Parse @text; check it counts our copies. Returns the families."""
    try:
        fams = families(text)
    except Exception as e:  # the parser's errors are plain ValueErrors and friends
        tap.ok(False, "%s: parses as OpenMetrics (%s)" % (where, e))
        return {}
    tap.ok(text.endswith("# EOF\n"), "%s: parses as OpenMetrics, ends with # EOF" % where)
    tap.ok(fams.get("dmad_channel_ops", ("",))[0] == "counter" and
           fams.get("dmad_ops", ("",))[0] == "counter",
           "%s: dmad_ops and dmad_channel_ops are counters" % where)
    client = next((s.labels["client"] for s in fams.get("dmad_client_channels", (0, []))[1]
                   if s.labels.get("name") == NAME.decode()), None)
    tap.ok(client is not None, "%s: our client is listed (client=%s)" % (where, client))
    ops = value(fams, "dmad_channel_ops", client=client, chan="1")
    nbytes = value(fams, "dmad_channel_bytes", client=client, chan="1")
    tap.ok(ops == COPIES, "%s: dmad_channel_ops_total{client=%s} is %d (%s)" %
           (where, client, COPIES, ops))
    tap.ok(nbytes == COPIES * SIZE, "%s: dmad_channel_bytes_total is %d (%s)" %
           (where, COPIES * SIZE, nbytes))
    cli_ops = value(fams, "dmad_client_ops", client=client)
    tap.ok(cli_ops == COPIES, "%s: dmad_client_ops_total{client=%s} is %d (%s)" %
           (where, client, COPIES, cli_ops))
    dev_ops = value(fams, "dmad_device_ops", device="dma_skeleton0")
    tap.ok(dev_ops is not None and dev_ops >= COPIES and value(fams, "dmad_ops") >= dev_ops,
           "%s: the device counted them too (%s), and the total (%s)" %
           (where, dev_ops, value(fams, "dmad_ops")))
    return fams


def scrape(conn):
    conn.request("GET", "/metrics")
    r = conn.getresponse()
    return r.status, r.getheader("Content-Type", ""), r.read().decode()


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    tap = Tap()
    d = Dmad(tap, "--engines", "1", "--metrics-listen", "unix:{dir}/metrics.sock")
    path = os.path.join(d.dir, "metrics.sock")
    # A scraper that connects and says nothing must hold up no one.
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.connect(path)
    client = Client(d.socket, NAME, COPIES, SIZE)
    tap.ok(client.copy_all(), "a client made %d copies of %d bytes, each checked" % (COPIES, SIZE))

    status, ctype, text = scrape(UnixHTTP(path))
    tap.ok(status == 200 and ctype.startswith("application/openmetrics-text"),
           "GET /metrics on unix:%s: %d, %s" % (path, status, ctype))
    check(tap, "unix endpoint", text)
    code, out, err = dmactl(d, "metrics")
    tap.ok(code == 0, "dmactl metrics exits 0 (%d: %s)" % (code, err.strip()))
    check(tap, "dmactl metrics", out)
    conn = UnixHTTP(path)
    conn.request("GET", "/other")
    tap.ok(conn.getresponse().status == 404, "another path is 404")
    # A NUL in the request line: an error answer, not a wait for the cut-off.
    nul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    nul.connect(path)
    nul.settimeout(8)
    nul.sendall(b"GET /met\0rics HTTP/1.0\r\n\r\n")
    answer = b""
    try:
        while chunk := nul.recv(4096):
            answer += chunk
    except OSError:
        pass
    nul.close()
    tap.ok(answer.startswith(b"HTTP/1.0 4"), "a request with a NUL in it is answered with an "
           "error (%r)" % answer[:40])
    stalled.settimeout(8)
    try:
        cut = stalled.recv(1) == b""
    except OSError:
        cut = False
    tap.ok(cut, "a scraper that sent nothing was served around, and cut off after 5 s")
    stalled.close()
    # A released device: its copies stay in the totals, and it is listed.
    before = value(families(scrape(UnixHTTP(path))[2]), "dmad_ops")
    code, out, err = dmactl(d, "remove", "dma_skeleton0")
    tap.ok(code == 0, "dmactl remove dma_skeleton0 exits 0 (%d: %s)" % (code, err.strip()))
    fams = families(scrape(UnixHTTP(path))[2])
    tap.ok(fams.get("dmad_devices_released", ("",))[0] == "counter" and
           value(fams, "dmad_devices_released") == 1,
           "dmad_devices_released_total is 1 (%s)" % value(fams, "dmad_devices_released"))
    tap.ok(value(fams, "dmad_released_device_info", device="dma_skeleton0",
                 state="REMOVED") == 1,
           "dmad_released_device_info{device=dma_skeleton0,state=REMOVED} is there")
    after = value(fams, "dmad_ops")
    tap.ok(before is not None and after is not None and after >= before >= COPIES,
           "dmad_ops_total did not go down with the device (%s, then %s)" % (before, after))
    tap.ok(value(fams, "dmad_errors") == 0, "dmad_errors_total is 0 (%s)" %
           value(fams, "dmad_errors"))
    client.close()
    tap.ok(d.stop() == 0 and not os.path.exists(path),
           "dmad exits 0 on SIGTERM and removes the metrics socket")

    port = free_port()
    d = Dmad(tap, "--engines", "1", "--metrics-listen", "127.0.0.1:%d" % port)
    client = Client(d.socket, NAME, COPIES, SIZE)
    tap.ok(client.copy_all(), "again, with metrics on 127.0.0.1:%d" % port)
    status, ctype, text = scrape(http.client.HTTPConnection("127.0.0.1", port, timeout=10))
    tap.ok(status == 200, "GET http://127.0.0.1:%d/metrics: %d" % (port, status))
    check(tap, "tcp endpoint", text)
    client.close()
    tap.ok(d.stop() == 0, "dmad exits 0 on SIGTERM")

    with tempfile.TemporaryDirectory() as tmp:
        for spec in ("0.0.0.0:%d" % port, "192.0.2.1:%d" % port, "localhost:%d" % port,
                     "[::]:%d" % port, "127.0.0.1:0"):
            r = subprocess.run([os.environ["DMAD_BIN"], "--socket", tmp + "/dmad.sock",
                                "--metrics-listen", spec],
                               capture_output=True, text=True, timeout=30, env=child_env())
            tap.ok(r.returncode != 0 and "this host only" in r.stderr,
                   "--metrics-listen %s is refused, saying why (%d)" % (spec, r.returncode))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
