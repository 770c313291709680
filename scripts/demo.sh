#!/bin/sh
# Install what is missing, build, then show the main job: dmad on software
# DMA engines, a client copying verified data through it, and dmactl
# watching (and, while the client runs, removing a device).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD:-build}
export BUILD
./scripts/build.sh

tmp=$(mktemp -d)
sock="$tmp/dmad.sock"
dmad_pid=""
cleanup() {
	[ -n "$dmad_pid" ] && kill "$dmad_pid" 2>/dev/null && wait "$dmad_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }

say "starting dmad with two dma_skeleton software engines on $sock"
"$BUILD/daemon/dmad" --socket "$sock" --engines 2 &
dmad_pid=$!
i=0
until "$BUILD/ctl/dmactl" --socket "$sock" status >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "dmad did not come up"; exit 1; }
	sleep 0.1
done

say "a client copies random chunks (every byte checked) for 4 seconds"
DMAC_COPYBREAK=0 "$BUILD/examples/dmac-copy" --socket "$sock" --seconds 4 &
client=$!
sleep 1.5
say "dmactl status while it runs"
"$BUILD/ctl/dmactl" --socket "$sock" status
if "$BUILD/ctl/dmactl" --socket "$sock" help 2>&1 | grep -q '^ *remove'; then
	say "dmactl remove dma_skeleton0 while the client copies"
	"$BUILD/ctl/dmactl" --socket "$sock" remove dma_skeleton0
fi
wait "$client"

say "dmactl status after"
"$BUILD/ctl/dmactl" --socket "$sock" status
say "stopping dmad"
kill "$dmad_pid"
wait "$dmad_pid"
dmad_pid=""
echo "demo: OK"
