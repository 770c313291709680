#!/bin/sh
# SPDX-License-Identifier: MIT
# dmad --version and dmactl --version print meson's project version and
# the control protocol's, as the man pages' headers carry it; dmad's also
# says whether it was built with receive offload.
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT MESON_BUILD_ROOT DMAD_BIN DMACTL_BIN

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

version=$(meson introspect --projectinfo "$MESON_BUILD_ROOT" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
# proto_version MAJOR|MINOR: its number in proto/dmad_proto.h.
proto_version() {
	sed -n "s/^#define DMAD_PROTO_VERSION_$1[[:space:]]*\([0-9]*\)u.*/\1/p" \
		"$MESON_SOURCE_ROOT/proto/dmad_proto.h"
}
proto=$(proto_version MAJOR).$(proto_version MINOR)
echo "meson's version $version, control protocol $proto" | diag

# No daemon starts: --version needs neither a socket nor EAL.
DMAD_SOCKET=$T/none/dmad.sock "$DMAD_BIN" --version >"$T/dmad.out" 2>&1
status=$?
diag <"$T/dmad.out"
[ $status -eq 0 ] && [ "$(head -n 1 "$T/dmad.out")" = "dmad $version (control protocol $proto)" ]
ok $? "dmad --version: dmad $version (control protocol $proto), exit $status"

if meson introspect --targets "$MESON_BUILD_ROOT" | grep -q dmad_xdp; then rx=+rx; else rx=-rx; fi
[ "$(sed -n 2p "$T/dmad.out")" = "$rx" ]
ok $? "and its features: $rx, as this build has it"

"$DMACTL_BIN" --version >"$T/dmactl.out" 2>&1
status=$?
[ $status -eq 0 ] && [ "$(cat "$T/dmactl.out")" = "dmactl $version (control protocol $proto)" ]
ok $? "dmactl --version: $(cat "$T/dmactl.out"), exit $status"

for page in "$MESON_BUILD_ROOT"/man/*.[1-8]; do
	grep -q "^\\.TH [A-Z_]* [1-8] [0-9]* \"dmad $version\" " "$page"
	ok $? "$(basename "$page"): $(grep '^\.TH' "$page")"
done

tap_done
