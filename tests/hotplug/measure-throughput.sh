#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Copy throughput through dmad before, during and after a planned removal.
# A dmad with 3 dma_skeleton engines serves N hotplug-load clients
# (DMAC_COPYBREAK=0, verified random copies up to 64 KiB); the bytes dmad
# reports for their channels (`dmactl --json status`) are sampled 30 times,
# 200 ms apart plus the time a sample takes, and dma_skeleton0 is removed
# half-way. Prints each interval's rate (the removal's interval is marked)
# and the mean before and after.
#
# usage: measure-throughput.sh BUILDDIR [N]      (N defaults to 4)
#
# A measurement, not a test: exit status 1 if a client saw a wrong byte.

set -eu

build=${1:?usage: measure-throughput.sh BUILDDIR [N]}
n=${2:-4}
dmad=$build/daemon/dmad
dmactl=$build/ctl/dmactl
load=$build/tests/hotplug/hotplug-load
samples=30 # 6 s of 200 ms intervals; the removal after the 15th

tmp=$(mktemp -d /tmp/dmad-tput.XXXXXX)
dmad_pid=
trap 'kill $dmad_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

"$dmad" --socket "$tmp/s" --engines 3 --copybreak 0 2>"$tmp/dmad.log" &
dmad_pid=$!
until "$dmactl" --socket "$tmp/s" status >/dev/null 2>&1; do sleep 0.1; done

pids=
for i in $(seq "$n"); do
	DMAC_COPYBREAK=0 "$load" --socket "$tmp/s" --seconds 120 --seed "$i" >"$tmp/load$i" 2>&1 &
	pids="$pids $!"
done
sleep 0.5

bytes() { "$dmactl" --socket "$tmp/s" --json status |
	python3 -c "import json,sys; print(sum(c[\"bytes\"] for c in json.load(sys.stdin)[\"channels\"]))"; }

prev=$(bytes)
t_prev=$(date +%s.%N)
for k in $(seq $samples); do
	sleep 0.2
	mark=""
	if [ "$k" -eq $((samples / 2)) ]; then
		"$dmactl" --socket "$tmp/s" remove dma_skeleton0 >"$tmp/remove" && mark="  <- remove"
	fi
	now=$(bytes)
	t=$(date +%s.%N)
	echo "$k $prev $now $t_prev $t$mark"
	prev=$now
	t_prev=$t
done | awk -v half=$((samples / 2)) '
	{ gbs = ($3 - $2) / ($5 - $4) / 1e9
	  printf "%3d  %6.2f GB/s%s\n", $1, gbs, ($6 ? "  <- remove" : "")
	  if ($1 < half) { b += gbs; nb++ } else if ($1 > half) { a += gbs; na++ } }
	END { printf "mean before %.2f GB/s, after %.2f GB/s\n", b / nb, a / na }'
cat "$tmp/remove"

rc=0
kill -TERM $pids
for p in $pids; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || echo "measure-throughput: a client failed" >&2
cat "$tmp"/load*
exit $rc
