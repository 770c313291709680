#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The daemon's layering, as ARCHITECTURE.md states it, holds in the code.

Reads the layer table of ARCHITECTURE.md ("| layer | name | modules |"),
places every file of daemon/ in a layer (a `name` stands for name.c and
name.h, a `file.c` for itself), and fails when a file is in no layer or
includes a daemon header of a higher layer. TAP on stdout.

usage: test-layers.py SOURCE_ROOT
"""
import os
import re
import sys


def layers(root):
    table = {}
    with open(os.path.join(root, "ARCHITECTURE.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\|\s*(\d+)\s*\|[^|]*\|(.*)\|\s*$", line)
            if not m:
                continue
            for name in re.findall(r"`([^`]+)`", m.group(2)):
                table[name] = int(m.group(1))
    return table


def layer_of(table, fname):
    if fname in table:
        return table[fname]
    return table.get(os.path.splitext(fname)[0])


def main():
    root = sys.argv[1]
    table = layers(root)
    daemon = os.path.join(root, "daemon")
    files = sorted(f for f in os.listdir(daemon) if f.endswith((".c", ".h")))
    results = []

    results.append((len(table) > 10, "ARCHITECTURE.md has a layer table (%d names)" % len(table)))
    unplaced = [f for f in files if layer_of(table, f) is None]
    results.append((not unplaced, "every daemon file has a layer (%s)" % (", ".join(unplaced) or "all do")))
    for f in files:
        mine = layer_of(table, f)
        if mine is None:
            continue
        with open(os.path.join(daemon, f), encoding="utf-8") as src:
            incs = re.findall(r'^#include "([^"]+)"', src.read(), re.M)
        up = []
        for inc in incs:
            if not os.path.exists(os.path.join(daemon, inc)):
                continue  # proto/, generated, or the system's
            theirs = layer_of(table, inc)
            if theirs is None or theirs > mine:
                up.append("%s (layer %s)" % (inc, theirs))
        results.append((not up, "%s (layer %d) includes nothing above it%s" %
                        (f, mine, ": " + ", ".join(up) if up else "")))

    print("1..%d" % len(results))
    for i, (good, what) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, what))
    return 0 if all(g for g, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
