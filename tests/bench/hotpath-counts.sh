#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Cost of the client's submit path (dmac_memcpy + dmac_issue_pending) per
# copy, in units that move little with machine load: instructions
# (callgrind, counting inside hotpath_submit() only) and system calls
# (strace -c -f). callgrind runs the submit loop for a token op count and
# for many ops, and the difference is divided by the difference in ops, so
# set-up, warm-up and lazy symbol binding cancel out. strace runs it once for
# a million copies and divides, set-up included: system calls on the hot path
# (a doorbell write when dmad's worker sleeps) come and go with timing, and a
# difference of two such counts can come out negative.
#
# The promise measured is DESIGN.md's: no system call while dmad's worker
# polls. So by default the worker has a CPU of its own to poll on (dmad's
# CPU engine, its worker lcore on the second CPU of our mask, the client on
# the first). "shared" leaves dmad (one dma_skeleton engine) and the client
# where the scheduler puts them: a client spinning on dmac_is_complete()
# beside the worker keeps that CPU, and then the worker sleeps rather than
# wait for it (daemon/worker_idle.c), so the client rings the doorbell.
#
# usage: hotpath-counts.sh BUILDDIR [SIZE [dedicated|shared]]
#   BUILDDIR  meson build directory holding daemon/dmad and tests/bench/dmad-bench
#   SIZE      bytes per copy (64); copybreak is 0, so every copy goes to the ring
#
# Starts its own dmad on a socket in a temporary directory and stops it.
# Exit status: 0, 1 on failure, 77 when valgrind or strace is missing.

set -eu

build=${1:?usage: hotpath-counts.sh BUILDDIR [SIZE [dedicated|shared]]}
size=${2:-64}
layout=${3:-dedicated}
dmad=$build/daemon/dmad
bench=$build/tests/bench/dmad-bench
# Multiples of the bench's 256-copy round.
n1=256
n2=128000
ns=1024000

for tool in valgrind strace; do
	if ! command -v "$tool" >/dev/null; then
		echo "hotpath-counts: $tool not found (apt-get install $tool)" >&2
		exit 77
	fi
done
for f in "$dmad" "$bench"; do
	[ -x "$f" ] || { echo "hotpath-counts: $f not built" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/dmad-hotpath.XXXXXX)
dmad_pid=
cleanup() {
	if [ -n "$dmad_pid" ]; then
		kill "$dmad_pid" 2>/dev/null || true
		wait "$dmad_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The first two CPUs we may run on.
cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status | tr ',' '\n' |
	awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }' | head -2 | tr '\n' ' ')
set -- $cpus
case $layout in
dedicated)
	[ $# -eq 2 ] || { echo "hotpath-counts: the dedicated layout needs two CPUs" >&2; exit 77; }
	pin="taskset -c $1"
	what="dmad's CPU engine, its worker alone on CPU $2, the client on CPU $1"
	set -- --engines cpu -- --lcores "0@($1),1@($2)" ;;
shared)
	pin=
	what="one dma_skeleton engine, dmad and the client where the scheduler puts them"
	set -- --engines 1 ;;
*)
	echo "hotpath-counts: layout is dedicated or shared, not '$layout'" >&2
	exit 2 ;;
esac
"$dmad" --socket "$tmp/dmad.sock" "$@" >"$tmp/dmad.log" 2>&1 &
dmad_pid=$!
i=0
until [ -S "$tmp/dmad.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$dmad_pid" 2>/dev/null; then
		echo "hotpath-counts: dmad did not come up:" >&2
		cat "$tmp/dmad.log" >&2
		exit 1
	fi
	sleep 0.1
done

# The hot path's instructions for N copies: the "totals" line of the
# callgrind output, which --toggle-collect limits to hotpath_submit() and
# what it calls. Also leaves "function Ir" lines (self cost) in $out.fn.
instructions() { # ops batch
	out=$tmp/callgrind.$1.$2
	$pin valgrind --tool=callgrind --toggle-collect=hotpath_submit \
		--callgrind-out-file="$out" \
		"$bench" --socket "$tmp/dmad.sock" --sizes "$size" \
		--hotpath "$1" --hotpath-batch "$2" >"$tmp/out" 2>"$tmp/err" || {
		cat "$tmp/out" "$tmp/err" >&2
		exit 1
	}
	callgrind_annotate --auto=no --threshold=100 "$out" | awk '
		/^ *[0-9,]+ \( *[0-9.]+%\) +[^ ]+:/ {
			ir = $1; gsub(",", "", ir)
			fn = substr($0, index($0, ")") + 1); sub(/^ +/, "", fn); sub(/ .*/, "", fn)
			sub(/.*:/, "", fn); cost[fn] += ir
		}
		END { for (fn in cost) print fn, cost[fn] }' | sort -k2 -rn >"$out.fn"
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

# System calls of the whole run, "name calls" per line and "total calls",
# from strace -c (its calls column is the 4th whether or not errors is set).
syscalls() { # ops
	out=$tmp/strace.$1
	$pin strace -f -c -o "$out" \
		"$bench" --socket "$tmp/dmad.sock" --sizes "$size" \
		--hotpath "$1" >"$tmp/out" 2>"$tmp/err" || {
		cat "$tmp/out" "$tmp/err" >&2
		exit 1
	}
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF, $4 }' "$out" >"$tmp/calls.$1"
	awk '$1 == "total" { print $2 }' "$tmp/calls.$1"
}

per_op() { # a b
	awk -v a="$1" -v b="$2" -v n=$((n2 - n1)) 'BEGIN { printf "%.2f", (b - a) / n }'
}

echo "hot path, $size-byte copies, copybreak 0, dmad $dmad"
echo "layout $layout: $what"
for batch in 1 32; do
	i1=$(instructions $n1 $batch)
	i2=$(instructions $n2 $batch)
	echo "instructions per copy (issue_pending every $batch): $(per_op "$i1" "$i2")" \
		"[callgrind: $i1 Ir for $n1, $i2 Ir for $n2]"
	# Per function; hotpath_submit is the bench's own loop, not the library.
	awk -v n=$((n2 - n1)) '
		FNR == NR { a[$1] = $2; next }
		{ d = ($2 - a[$1]) / n }
		d >= 0.5 { printf "  %-24s %7.2f\n", $1, d }
		$1 != "hotpath_submit" { lib += d }
		END { printf "  %-24s %7.2f\n", "= all but the loop", lib }
	' "$tmp/callgrind.$n1.$batch.fn" "$tmp/callgrind.$n2.$batch.fn"
done
# Set-up is a few hundred calls; over this many copies it adds < 0.001 each.
s=$(syscalls $ns)
echo "system calls per copy (issue_pending every 1): $(awk -v s="$s" -v n=$ns 'BEGIN { printf "%.4f", s / n }')" \
	"[strace -c -f: $s calls for $ns copies, set-up included]"
awk -v n=$ns '$1 != "total" && $2 / n >= 0.0005 { printf "  %-24s %7.4f\n", $1, $2 / n }' \
	"$tmp/calls.$ns"
