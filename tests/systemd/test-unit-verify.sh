#!/bin/sh
# SPDX-License-Identifier: MIT
# The units as installed, checked by systemd's own tools without systemd
# running: systemd-analyze verify finds nothing to say about them (and
# does about a broken copy), the service's exposure stays low, sysusers.d
# creates groups dma and dma-admin, and the units agree with dmad and with
# each other.
set -u
. "$(dirname "$0")/tap.sh"
need DMAD_BIN DMAD_INSTALLED DMAD_UNIT DMAD_UNIT_SRC MESON_SOURCE_ROOT
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed (package systemd)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/units" "$T/bad" "$T/root/etc"
service=$T/units/dmad.service
socket=$T/units/dmad.socket

# verify wants ExecStart= to exist: the built dmad stands in for the installed one.
grep -q "^ExecStart=$DMAD_INSTALLED --config " "$DMAD_UNIT"
ok $? "the unit starts dmad where it is installed ($DMAD_INSTALLED), with --config"
sed "s|^ExecStart=$DMAD_INSTALLED |ExecStart=$DMAD_BIN |" "$DMAD_UNIT" >"$service"
cp "$DMAD_UNIT_SRC/dmad.socket" "$socket"

systemd-analyze verify --man=no "$socket" "$service" >"$T/verify.out" 2>&1
status=$?
diag <"$T/verify.out"
[ $status -eq 0 ] && [ ! -s "$T/verify.out" ]
ok $? "systemd-analyze verify: no error, no warning (exit $status)"

# The same check on a unit with a misspelt key and a missing binary must complain.
sed 's/^DevicePolicy=/DevicePolicyy=/; s|^ExecStart=[^ ]*|ExecStart=/nonexistent/dmad|' \
	"$service" >"$T/bad/dmad.service"
cp "$socket" "$T/bad/dmad.socket"
systemd-analyze verify --man=no "$T/bad/dmad.socket" "$T/bad/dmad.service" >"$T/bad.out" 2>&1
grep -q "Unknown key" "$T/bad.out" && grep -q "not executable" "$T/bad.out"
ok $? "and it does complain about a broken copy"

systemd-analyze security --offline=yes --threshold=35 "$service" >"$T/security.out" 2>&1
status=$?
grep "Overall exposure" "$T/security.out" | diag
ok $status "systemd-analyze security: exposure at most 3.5 (exit $status)"

systemd-sysusers --root="$T/root" "$DMAD_UNIT_SRC/dmad.sysusers" 2>&1 | diag
grep -q '^dma:x:[0-9]*:' "$T/root/etc/group"
ok $? "sysusers.d creates group dma"
grep -q '^dma-admin:x:[0-9]*:' "$T/root/etc/group"
ok $? "and group dma-admin, dmad's default --admin-group"

sock=$(sed -n 's/^ListenSequentialPacket=//p' "$socket")
grep -q "DMAD_PROTO_SOCKET_DEFAULT *\"$sock\"" "$MESON_SOURCE_ROOT/proto/dmad_proto.h"
ok $? "the socket unit listens where clients look by default ($sock)"

group=$(sed -n 's/^SocketGroup=//p' "$socket")
grep -q "^g $group " "$DMAD_UNIT_SRC/dmad.sysusers"
ok $? "its group ($group) is the one sysusers.d creates"

case $sock in
"/run/$(sed -n 's/^RuntimeDirectory=//p' "$service")/"*) status=0 ;;
*) status=1 ;;
esac
ok $status "it lives in the service's RuntimeDirectory="
grep -q '^RuntimeDirectoryPreserve=yes' "$service"
ok $? "which outlives the service, as the socket does"

tap_done
