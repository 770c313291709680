#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-fair's light-client ratios (p50 and p99 beside a greedy client,
# over alone) for several dmad binaries, N rounds, the binaries taking
# turns within each round so that all see the same load; then the median
# of each. On a shared machine one run says little: compare the medians,
# and the load average printed beside them.
#
# usage: fair-repeat.sh BUILDDIR ENGINES ROUNDS SECONDS DMAD...
#   e.g. fair-repeat.sh build cpu 5 1 /tmp/dmad-before build/daemon/dmad
# Prints one line per binary: median p50 ratio, median p99 ratio, rounds.

set -eu

build=${1:?usage: fair-repeat.sh BUILDDIR ENGINES ROUNDS SECONDS DMAD...}
engines=${2:?}
rounds=${3:?}
secs=${4:?}
shift 4
[ $# -gt 0 ] || { echo "fair-repeat: no dmad given" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ "$r" -lt "$rounds" ]; do
	i=0
	for dmad in "$@"; do
		"$build/tests/bench/bench-fair" --dmad "$dmad" --dmactl "$build/ctl/dmactl" \
			--engines "$engines" --seconds "$secs" |
			awk -v i="$i" '/ratio \(target/ { print i, $(NF-1), $NF }' >>"$out"
		i=$((i + 1))
	done
	r=$((r + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
i=0
for dmad in "$@"; do
	p50=$(awk -v i="$i" '$1 == i { print $2 }' "$out" | median)
	p99=$(awk -v i="$i" '$1 == i { print $3 }' "$out" | median)
	n=$(awk -v i="$i" '$1 == i' "$out" | wc -l)
	printf '%s: --engines %s, median of %s: p50 %sx, p99 %sx alone\n' "$dmad" "$engines" "$n" "$p50" "$p99"
	i=$((i + 1))
done
