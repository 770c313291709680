# SPDX-License-Identifier: MIT
"""What the Python integration tests share: TAP output, and a real dmad in a
temporary directory of its own, always stopped (SIGTERM, then SIGKILL) and
its directory removed when the test ends, however it ends. Its log is
printed as TAP diagnostics when a check failed."""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, what), flush=True)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def skip_all(why):
    print("1..0 # SKIP " + why, flush=True)
    sys.exit(77)


class Dmad:
    """dmad --socket DIR/dmad.sock ARGS..., ready once the socket accepts;
    "{dir}" in an argument is its directory."""

    def __init__(self, tap, *args, start_s=20):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="dmad-test.")
        self.socket = os.path.join(self.dir, "dmad.sock")
        self.log = os.path.join(self.dir, "dmad.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([os.environ["DMAD_BIN"], "--socket", self.socket,
                                          *(a.format(dir=self.dir) for a in args)],
                                         stdout=log, stderr=subprocess.STDOUT)
        atexit.register(self.cleanup)
        end = time.monotonic() + start_s
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                    s.connect(self.socket)
                    return
            except OSError:
                time.sleep(0.05)
        self.show_log()
        raise RuntimeError("dmad did not start")

    def show_log(self):
        with open(self.log, errors="replace") as f:
            self.tap.diag("---- dmad log ----\n" + f.read())

    def stop(self):
        """SIGTERM; its exit status (-signo if killed after 10 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        if self.tap.failed:
            self.show_log()
        shutil.rmtree(self.dir, ignore_errors=True)


def dmactl(dmad, *args):
    """Run dmactl against @dmad: (exit status, stdout, stderr)."""
    r = subprocess.run([os.environ["DMACTL_BIN"], "--socket", dmad.socket, *args],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr
