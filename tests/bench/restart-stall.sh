#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The stall a planned restart (dmactl restart) costs verifying clients:
# runs the restart soak test (tests/soak/test-restart-handover.c) with
# CLIENTS clients through RESTARTS restarts and prints its figures: the
# stall per client and restart (p50, p99, longest), each restart's own
# account of where its time went (drain and exec, EAL, engines, sessions,
# from dmad's log), and dmad's fds, mappings and private memory at its
# first start, after the first restart and after the last.
#
# usage: restart-stall.sh BUILDDIR [CLIENTS [RESTARTS]]   (default 4 20)
# Exit status: the test's (0: every check passed).

set -eu

build=${1:?usage: restart-stall.sh BUILDDIR [CLIENTS [RESTARTS]]}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

status=0
RESTART_CLIENTS=${2:-4} RESTART_COUNT=${3:-20} \
	meson test -C "$build" --suite soak test-restart-handover >"$out" 2>&1 || status=$?
# The TAP stream, diagnostics included, is in meson's log.
grep -E '^(not )?ok |^# (dmad: restart|first start|restart [0-9]+:)' \
	"$build/meson-logs/testlog.txt" | sed -e 's/^# //' -e 's/^dmad: //'
[ "$status" -eq 0 ] || cat "$out" >&2
exit "$status"
