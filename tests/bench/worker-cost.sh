#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Instructions dmad's worker spends per copy, before and after a device
# removal: runs the worker-cost harness under callgrind (one dump per phase)
# and splits the worker thread's cost, worker_main() inclusive, by what in
# the poll loop spent it.
#
# worker_poll_chan() and reap() are functions of their own (the compiler
# keeps reap() out of line), charged with their callees at the call. Code
# inlined into worker_main() has no function in callgrind's output; its
# per-instruction dump does know each instruction's address, and the debug
# info (addr2line -i) knows which inlined function each one came from: a
# cost line of worker_main is charged to the function inlined directly into
# it (rte_dma_submit, ...), a call to the callee's inclusive cost at the
# call site. What is left is the loop itself: RCU quiescent state, stats,
# the device walk.
#
# The worker polls whether or not there is work, and how many times it goes
# round per copy depends on scheduling (valgrind's above all), so the gross
# figure per copy moves from run to run. The harness counts the worker's
# loops and has an idle phase (no copies) with the same devices before and
# after the removal; "net" is the gross cost less that many empty loops at
# the idle phase's cost per loop, bucket by bucket: what the copies
# themselves added. Net figures repeat to within a few Ir.
#
# usage: worker-cost.sh BUILDDIR [WORKER-COST ARGS...]
#   default args: --sizes 4096,65536 --copies 20000,5000
# Exit status: 0, 1 on failure (including bad data), 77 when valgrind or
# addr2line is missing.

set -eu

build=${1:?usage: worker-cost.sh BUILDDIR [WORKER-COST ARGS...]}
shift
[ $# -gt 0 ] || set -- --sizes 4096,65536 --copies 20000,5000
exe=$build/tests/bench/worker-cost

for tool in valgrind addr2line; do
	if ! command -v "$tool" >/dev/null; then
		echo "worker-cost: $tool not found (apt-get install valgrind binutils)" >&2
		exit 77
	fi
done
[ -x "$exe" ] || { echo "worker-cost: $exe not built (needs valgrind/callgrind.h)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/dmad-worker-cost.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Uncompressed names and absolute positions keep the dumps awk-readable.
valgrind --tool=callgrind --dump-instr=yes --compress-strings=no --compress-pos=no \
	--callgrind-out-file="$tmp/cg" "$exe" "$@" >"$tmp/out" 2>"$tmp/err" || {
	cat "$tmp/out" "$tmp/err" >&2
	exit 1
}
echo "valgrind --tool=callgrind $exe $*"
cat "$tmp/out"

# One line per cost line of worker_main, in $tmp/costs:
#   PHASE BUCKET CALLEE IR CALLS     (CALLEE "-": worker_main's own instructions)
for dump in "$tmp"/cg.[0-9]*; do
	name=$(sed -n 's/^desc: Trigger: Client Request: //p' "$dump")
	awk '
		/^fn=/ { in_wm = ($0 == "fn=worker_main"); next }
		/^cfn=/ { callee = substr($0, 5); next }
		/^calls=/ { calls = substr($1, 7); next }
		/^0x/ {
			if (in_wm)
				print $1, (calls != "" ? callee : "-"), $3, (calls != "" ? calls : 0)
			calls = ""
		}
	' "$dump" >"$dump.wm"
	# Each address: the innermost function, and the one inlined straight
	# into worker_main ("-" for code of worker_main itself).
	awk '{ print $1 }' "$dump.wm" | sort -u |
		addr2line -f -i -a -e "$exe" | awk '
		function flush() { if (addr != "") print addr, inner, outer }
		/^0x/ {
			flush()
			addr = $1; sub(/^0x0*/, "", addr); inner = ""; outer = "-"; prev = ""; odd = 0
			next
		}
		{
			odd = !odd
			if (!odd) next              # the file:line under each name
			if (inner == "") inner = $1
			if ($1 == "worker_main" && prev != "") outer = prev
			prev = $1
		}
		END { flush() }
	' >"$dump.a2l"
	awk -v name="$name" '
		FILENAME ~ /a2l$/ { inner[$1] = $2; outer[$1] = $3; next }
		{
			a = $1; sub(/^0x0*/, "", a)
			o = outer[a]
			if (o == "worker_poll_chan" || o == "reap" || o == "rte_dma_submit" ||
			    o == "recover" || o == "snapshot_tails")
				b = o
			else
				b = ($2 == "-") ? "loop" : $2
			# Engine callbacks have no symbol: name them by the inline that called them.
			c = ($2 ~ /^0x/) ? inner[a] "->driver" : $2
			print name, b, (c == b ? "-" : c), $3, $4
		}
	' "$dump.a2l" "$dump.wm" >>"$tmp/costs"
done

# Gross: all the worker did in the phase, per copy. Net: less what the same
# number of empty loops cost in the idle phase with the same devices.
awk '
	FILENAME ~ /out$/ && $1 == "phase" {
		copies[$2] = $4; loops[$2] = $6; device[$2] = $10
		if ($4 > 0) order[++n] = $2
		next
	}
	FILENAME ~ /out$/ { next }
	{
		cost[$1, $2] += $4; total[$1] += $4; seen[$1, $2] = 1
		if ($2 == "loop") self[$1] += $4
		else {
			sub_ir[$1, $2, $3] += $4; sub_calls[$1, $2, $3] += $5
			if (!(($1, $2, $3) in sub_seen)) { sub_seen[$1, $2, $3] = 1; subs[$1, $2] = subs[$1, $2] " " $3 }
		}
	}
	function idle_per_loop(when, b) {
		i = "idle-" when
		if (b == "worker_sleep" || !loops[i]) return 0
		return cost[i, b] / loops[i]
	}
	END {
		nb = split("worker_poll_chan fair_serve reap doorbell rte_dma_submit loop worker_idle worker_saw_work worker_sleep recover snapshot_tails", buckets, " ")
		for (w = 1; w <= 2; w++) {
			when = w == 1 ? "before" : "after"; i = "idle-" when
			if (!loops[i]) continue
			e = 0
			for (k = 1; k <= nb; k++) e += idle_per_loop(when, buckets[k])
			printf "\nidle-%s: %d empty loops on %s: %.1f Ir per loop (poll_chan %.1f, reap %.1f, the rest %.1f)\n",
			       when, loops[i], device[i], e, idle_per_loop(when, "worker_poll_chan"),
			       idle_per_loop(when, "reap"), idle_per_loop(when, "loop")
		}
		for (p = 1; p <= n; p++) {
			ph = order[p]; when = ph; sub(/-.*/, "", when); N = copies[ph]; L = loops[ph]
			printf "\n%s: %d copies on %s, %.2f worker loops per copy\n", ph, N, device[ph], L / N
			printf "  %9s %9s\n", "Ir/copy", "net"
			net_total = total[ph]
			for (k = 1; k <= nb; k++) net_total -= L * idle_per_loop(when, buckets[k])
			printf "  %9.1f %9.1f  worker_main, inclusive: the worker thread, all of it\n",
			       total[ph] / N, net_total / N
			printf "  %9.1f %9s  worker_main, self (with what is inlined into it)\n", self[ph] / N, ""
			for (k = 1; k <= nb; k++) {
				b = buckets[k]
				if (!((ph, b) in seen)) continue
				net[ph, b] = cost[ph, b] - L * idle_per_loop(when, b)
				printf "  %9.1f %9.1f  %s%s\n", cost[ph, b] / N, net[ph, b] / N, b,
				       b == "loop" ? " (the rest of the loop)" : ""
				m = split(subs[ph, b], cs, " ")
				for (j = 1; j <= m; j++)
					printf "  %9.1f %9s      of which %s, %.2f calls per copy\n",
					       sub_ir[ph, b, cs[j]] / N, "", cs[j], sub_calls[ph, b, cs[j]] / N
			}
			sum_total[p] = total[ph] / N; sum_net[p] = net_total / N
			sum_poll[p] = net[ph, "worker_poll_chan"] / N; sum_reap[p] = net[ph, "reap"] / N
		}
		printf "\n%-14s %10s %10s %10s %10s %11s\n", "Ir per copy", "worker", "worker", "poll_chan", "reap", "loops"
		printf "%-14s %10s %10s %10s %10s %11s\n", "", "gross", "net", "net", "net", "per copy"
		for (p = 1; p <= n; p++)
			printf "%-14s %10.1f %10.1f %10.1f %10.1f %11.2f\n", order[p], sum_total[p], sum_net[p],
			       sum_poll[p], sum_reap[p], loops[order[p]] / copies[order[p]]
	}
' "$tmp/out" "$tmp/costs"
