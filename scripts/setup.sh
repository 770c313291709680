#!/bin/sh
# Install what building and testing dmad needs, from Debian 12's packages.
# Only missing packages are installed; safe to run again. Needs root, or
# sudo to run apt-get (a root shell on Debian 12 has no sudo, and needs none).
set -eu

# bash-completion, groff-base and man-db: the tests of the completion and
# of the man pages (`man dmac_memcpy` from an installed tree) use them;
# libjansson-dev parses dmactl's JSON in the tests (libdpdk-dev pulls it
# in too, but the tests should not depend on that); python3-prometheus-client
# parses dmad's OpenMetrics in them.
PACKAGES="build-essential meson ninja-build pkg-config python3 \
libdpdk-dev liburing-dev libsystemd-dev libbpf-dev \
clang libclang-rt-14-dev llvm bpftool libxdp-dev \
valgrind strace iproute2 systemd socat \
bash-completion groff-base man-db libjansson-dev python3-prometheus-client"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "setup: installing packages needs root: run this as root, or install sudo" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
