#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-fair's light-client figures for several dmad binaries, N rounds,
# the binaries taking turns within each round so that all see the same
# load; then the median of each. On a shared machine one run says little:
# compare the medians, and the load average printed beside them. A ratio's
# median is not the ratio of the medians: both are printed.
#
# usage: fair-repeat.sh BUILDDIR ENGINES ROUNDS SECONDS DMAD...
#   e.g. fair-repeat.sh build cpu 5 1 /tmp/dmad-before build/daemon/dmad
# Prints one line per binary: median ratios (p50 and p99 beside a greedy
# client over alone), median alone and beside p50/p99 in us, the 1:1 and
# 1:3 greedy shares of client A and the 1:1 GB/s.
#
# FAIR_QUIET=N: before each run, wait (at most FAIR_QUIET_S seconds, 600)
# until no more than N tasks are runnable (/proc/loadavg's fourth field,
# its reader included) at three looks 0.2 s apart; the load average lags
# by a minute.

set -eu

build=${1:?usage: fair-repeat.sh BUILDDIR ENGINES ROUNDS SECONDS DMAD...}
engines=${2:?}
rounds=${3:?}
secs=${4:?}
shift 4
[ $# -gt 0 ] || { echo "fair-repeat: no dmad given" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

quiet() {
	[ -n "${FAIR_QUIET:-}" ] || return 0
	end=$(($(date +%s) + ${FAIR_QUIET_S:-600}))
	ok=0
	while [ "$ok" -lt 3 ] && [ "$(date +%s)" -lt "$end" ]; do
		run=$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f1)
		if [ "$run" -le "$FAIR_QUIET" ]; then ok=$((ok + 1)); else ok=0; fi
		sleep 0.2
	done
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ "$r" -lt "$rounds" ]; do
	i=0
	for dmad in "$@"; do
		quiet
		"$build/tests/bench/bench-fair" --dmad "$dmad" --dmactl "$build/ctl/dmactl" \
			--engines "$engines" --seconds "$secs" |
			awk -v i="$i" '
				/^  alone/ { a50 = $2; a99 = $3 }
				/^  beside/ { b50 = $5; b99 = $6 }
				/ratio \(target/ { r50 = $(NF-1); r99 = $NF }
				/weights 1:1/ { e = $(NF-2); gbps = $NF }
				/weights 1:3/ { w = $(NF-2) }
				END { print i, r50, r99, a50, a99, b50, b99, e, w, gbps }' >>"$out"
		i=$((i + 1))
	done
	r=$((r + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v i="$1" -v c="$2" '$1 == i { print $c }' "$out" | tr -d '%' | median; }
i=0
for dmad in "$@"; do
	n=$(awk -v i="$i" '$1 == i' "$out" | wc -l)
	printf '%s: --engines %s, median of %s: p50 %sx, p99 %sx alone;' "$dmad" "$engines" "$n" \
		"$(col $i 2)" "$(col $i 3)"
	printf ' alone p50/p99 %s/%s us, beside %s/%s us; A 1:1 %s%%, 1:3 %s%%, 1:1 %s GB/s\n' \
		"$(col $i 4)" "$(col $i 5)" "$(col $i 6)" "$(col $i 7)" "$(col $i 8)" "$(col $i 9)" \
		"$(col $i 10)"
	i=$((i + 1))
done
