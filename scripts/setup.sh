#!/bin/sh
# Install what building and testing dmad needs, from Debian 12's packages.
# Only missing packages are installed; safe to run again. Needs root (or sudo).
set -eu

PACKAGES="build-essential meson ninja-build pkg-config python3 \
libdpdk-dev liburing-dev libsystemd-dev libbpf-dev \
clang libclang-rt-14-dev llvm bpftool libxdp-dev \
valgrind strace iproute2 systemd socat"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
