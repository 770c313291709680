# SPDX-License-Identifier: MIT
"""What the Python integration tests share: TAP output, and a real dmad in a
temporary directory of its own, always stopped (SIGTERM, then SIGKILL) and
its directory removed when the test ends, however it ends. Its log is
printed as TAP diagnostics when a check failed."""
import atexit
import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def child_env():
    """The environment for dmad and dmactl: without what only the python
    process needs under a sanitized build (meson.build)."""
    env = dict(os.environ)
    if "LD_PRELOAD" in env:
        del env["LD_PRELOAD"]
        env.pop("ASAN_OPTIONS", None)
    return env


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
    """dmad --socket DIR/dmad.sock ARGS..., ready once it answers HELLO
    (the socket accepts before EAL and the devices are up); "{dir}" in an
    argument is its directory."""

    def __init__(self, tap, *args, start_s=20):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix="dmad-test.")
        self.socket = os.path.join(self.dir, "dmad.sock")
        self.log = os.path.join(self.dir, "dmad.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([os.environ["DMAD_BIN"], "--socket", self.socket,
                                          *(a.format(dir=self.dir) for a in args)],
                                         env=child_env(), stdout=log, stderr=subprocess.STDOUT)
        atexit.register(self.cleanup)
        end = time.monotonic() + start_s
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                    s.connect(self.socket)
                    s.settimeout(max(end - time.monotonic(), 0.1))
                    # proto/dmad_proto.h: header (magic "DMAD", major 1), HELLO = 1.
                    s.send(struct.pack("<IHHHHIIi32s", 0x44414d44, 1, 0, 1, 0, 1, 32, 0,
                                       b"dmadrun"))
                    if len(s.recv(4096)) >= 24:
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
                       capture_output=True, text=True, timeout=30, env=child_env())
    return r.returncode, r.stdout, r.stderr


class Client:
    """A libdmaclient client ($LIBDMACLIENT, through ctypes) that makes
    @copies copies of @size bytes through its ring, every one checked."""

    def __init__(self, socket_path, name, copies, size):
        lib = self.lib = ctypes.CDLL(os.environ["LIBDMACLIENT"])
        lib.dmac_region_alloc.restype = ctypes.c_void_p
        lib.dmac_region_alloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.dmac_memcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_size_t, ctypes.c_uint]
        lib.dmac_wait.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int]
        lib.dmac_chan_set_copybreak.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.dmac_chan_put.argtypes = [ctypes.c_void_p]
        lib.dmac_disconnect.argtypes = [ctypes.c_void_p]
        self.client = ctypes.c_void_p()
        self.chan = ctypes.c_void_p()
        self.copies, self.size = copies, size
        r = lib.dmac_connect(socket_path.encode(), name, ctypes.byref(self.client))
        if r < 0:
            raise OSError(-r, "dmac_connect")
        self.src = lib.dmac_region_alloc(self.client, copies * size)
        self.dst = lib.dmac_region_alloc(self.client, copies * size)
        r = lib.dmac_chan_get(self.client, 1, ctypes.byref(self.chan))  # DMAC_CAP_COPY
        if not self.src or not self.dst or r < 0:
            raise OSError(-r, "regions or channel")
        # Every copy through the ring, however small: the engine counts them.
        lib.dmac_chan_set_copybreak(self.chan, 0)

    def copy_all(self):
        copies, size = self.copies, self.size
        pattern = bytes((i * 7 + i // 251) & 0xff for i in range(copies * size))
        ctypes.memmove(self.src, pattern, len(pattern))
        ctypes.memset(self.dst, 0, len(pattern))
        last = 0
        for i in range(copies):
            last = self.lib.dmac_memcpy(self.chan, self.dst + i * size, self.src + i * size,
                                        size, 0)
            if last < 0:
                return False
        if self.lib.dmac_wait(self.chan, last, 10000) != 0:
            return False
        return ctypes.string_at(self.dst, len(pattern)) == pattern

    def close(self):
        self.lib.dmac_disconnect(self.client)
