#!/bin/sh
# SPDX-License-Identifier: MIT
#
# How long a planned removal takes, and how long it stalls the clients, as
# the number of busy clients grows. For each N, a fresh dmad with 3
# dma_skeleton engines and N hotplug-load clients (DMAC_COPYBREAK=0, random
# verified copies up to 64 KiB, up to 32 in flight per round) runs twice for
# the same time: once undisturbed (the baseline) and once with
# `dmactl --json remove dma_skeleton0` in the middle. Printed per N:
#   moved          channels the removal moved (those on dma_skeleton0)
#   drain_us       dmad's drain time, from `dmactl --json remove`
#   move_stall_us  the longest dmac_wait() a moved client saw in the round
#                  that the move fell in: the stall as the client felt it
#   max_wait_us    the longest dmac_wait() of any client over the whole run
#   base_wait_us   the same without a removal: what load alone causes here
# On a small machine the last two are scheduling noise (N clients, dmad's
# worker and 3 engine threads sharing the cores); move_stall_us is not.
#
# usage: measure-drain.sh BUILDDIR [N...]     (N defaults to 1 2 4 8)
#
# A measurement, not a test. Exit status 1 if anything failed, including a
# client that saw a wrong byte or a completion out of order.

set -eu

build=${1:?usage: measure-drain.sh BUILDDIR [N...]}
shift
counts=${*:-1 2 4 8}
dmad=$build/daemon/dmad
dmactl=$build/ctl/dmactl
load=$build/tests/hotplug/hotplug-load
warm_s=1   # load before the removal
after_s=1  # load after it

for f in "$dmad" "$dmactl" "$load"; do
	[ -x "$f" ] || { echo "measure-drain: $f not built" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/dmad-drain.XXXXXX)
dmad_pid=
pids=
cleanup() {
	for p in $pids $dmad_pid; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The number after "key": in a one-line JSON document.
field() { # key file
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | head -n 1
}

start_dmad() {
	rm -f "$tmp/dmad.sock"
	"$dmad" --socket "$tmp/dmad.sock" --engines 3 >"$tmp/dmad.log" 2>&1 &
	dmad_pid=$!
	i=0
	until "$dmactl" --socket "$tmp/dmad.sock" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$dmad_pid" 2>/dev/null; then
			echo "measure-drain: dmad did not come up:" >&2
			cat "$tmp/dmad.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

stop_dmad() {
	kill "$dmad_pid"
	wait "$dmad_pid" || { echo "measure-drain: dmad exited uncleanly:" >&2; cat "$tmp/dmad.log" >&2; exit 1; }
	dmad_pid=
}

# One run with N clients; with "remove", dma_skeleton0 goes in the middle.
# Sets: stall (longest client dmac_wait, us), mstall (longest across a
# move), and from the removal: moved, drain.
run() { # n remove|baseline
	start_dmad
	pids=
	k=0
	while [ $k -lt "$1" ]; do
		DMAC_COPYBREAK=0 "$load" --socket "$tmp/dmad.sock" --name "load-$k" --seed $((k + 1)) \
			>"$tmp/load.$k" 2>"$tmp/load.$k.err" &
		pids="$pids $!"
		k=$((k + 1))
	done
	sleep $warm_s
	if [ "$2" = remove ]; then
		"$dmactl" --socket "$tmp/dmad.sock" --json remove dma_skeleton0 >"$tmp/remove" || {
			echo "measure-drain: dmactl remove failed" >&2
			exit 1
		}
		moved=$(grep -o '"to"' "$tmp/remove" | wc -l)
		drain=$(field drain_us "$tmp/remove")
	fi
	sleep $after_s
	for p in $pids; do
		kill -TERM "$p"
	done
	stall=0
	mstall=0
	k=0
	for p in $pids; do
		if ! wait "$p" || ! grep -q '"ok":true' "$tmp/load.$k"; then
			echo "measure-drain: client load-$k failed:" >&2
			cat "$tmp/load.$k" "$tmp/load.$k.err" >&2
			exit 1
		fi
		s=$(field max_stall_us "$tmp/load.$k")
		[ "$s" -gt "$stall" ] && stall=$s
		s=$(field move_stall_us "$tmp/load.$k")
		[ "$s" -gt "$mstall" ] && mstall=$s
		k=$((k + 1))
	done
	pids=
	stop_dmad
}

echo "planned removal of 1 of 3 dma_skeleton engines under N busy clients (dmad $dmad)"
printf '%3s %6s %10s %14s %12s %13s\n' N moved drain_us move_stall_us max_wait_us base_wait_us
for n in $counts; do
	run "$n" baseline
	base=$stall
	run "$n" remove
	printf '%3s %6s %10s %14s %12s %13s\n' "$n" "$moved" "$drain" "$mstall" "$stall" "$base"
done
