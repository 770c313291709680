#!/bin/sh
# SPDX-License-Identifier: MIT
# What a packager may turn off, turns off: -Drx=disabled builds dmad
# without clang, bpftool, libbpf or libxdp, and that dmad answers flow
# requests with -EOPNOTSUPP (test-rx-unsupported, run against it);
# -Dtests=false registers no test. And -Werror is not a default a
# distribution's build inherits: only scripts/build.sh (so CI) asks for it.
# The XDP program is built for the host's arch, named by meson, not assumed.
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT MESON_BUILD_ROOT DMACTL_BIN
command -v meson >/dev/null || skip_all "meson is not installed"
command -v ninja >/dev/null || skip_all "ninja is not installed"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
b=$T/b

# option NAME BUILDDIR: the option's value as meson has it configured.
option() {
	meson introspect --buildoptions "$2" |
		python3 -c "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name'] == '$1'][0])"
}

meson setup "$b" "$MESON_SOURCE_ROOT" -Drx=disabled -Dtests=false >"$T/setup.out" 2>&1
status=$?
[ $status -eq 0 ] || diag <"$T/setup.out"
ok $status "meson setup -Drx=disabled -Dtests=false (exit $status)"
[ $status -eq 0 ] || bail "cannot configure; the rest needs that build"

[ "$(option werror "$b")" = False ]
ok $? "werror is off unless asked for (a distribution build's default)"
[ "$(meson introspect --tests "$b")" = "[]" ]
ok $? "-Dtests=false registers no test"
! meson introspect --targets "$b" | grep -q dmad_xdp
ok $? "-Drx=disabled builds no XDP program"

ninja -C "$b" daemon/dmad ctl/dmactl >"$T/ninja.out" 2>&1
status=$?
[ $status -eq 0 ] || diag <"$T/ninja.out"
ok $status "dmad builds without receive offload (exit $status)"
! ldd "$b/daemon/dmad" | grep -E 'libbpf|libxdp'
ok $? "and links neither libbpf nor libxdp"

DMAD_BIN=$b/daemon/dmad "$MESON_BUILD_ROOT/tests/integration/test-rx-unsupported" >"$T/rx.out" 2>&1
status=$?
diag <"$T/rx.out"
ok $status "test-rx-unsupported against it: flows get -EOPNOTSUPP, copies work (exit $status)"

# And the build under test: the rx tests are there exactly when rx is.
n=$(meson introspect --tests "$MESON_BUILD_ROOT" |
	python3 -c "import json,sys; print(sum('dmad:rx' in t['suite'] for t in json.load(sys.stdin)))")
if meson introspect --targets "$MESON_BUILD_ROOT" | grep -q dmad_xdp; then
	[ "$n" -gt 0 ]
	ok $? "with receive offload built, $n rx tests are registered"
else
	[ "$n" -eq 0 ]
	ok $? "without receive offload built, no rx test is registered ($n)"
fi
# The XDP program is built for the host's arch, whatever it is: the arch
# and the multiarch include dir come from meson and the compiler.
if meson introspect --targets "$MESON_BUILD_ROOT" | grep -q dmad_xdp; then
	case $(uname -m) in
	x86_64) arch=x86 ;;
	aarch64) arch=arm64 ;;
	*) arch='' ;;
	esac
	cmd=$(grep -A1 '^build bpf/dmad_xdp.bpf.o' "$MESON_BUILD_ROOT/build.ninja" | sed -n 's/^ COMMAND = //p')
	echo "$cmd" | diag
	case $cmd in
	*"-D__TARGET_ARCH_$arch "*"-isystem /usr/include/$(cc -print-multiarch) "*) status=0 ;;
	*) status=1 ;;
	esac
	[ -n "$arch" ] || status=0
	ok $status "the XDP program is built with -D__TARGET_ARCH_${arch:-?} and $(uname -m)'s multiarch headers"
	! grep -q -e x86_64-linux-gnu -e __x86_64__ "$MESON_SOURCE_ROOT/bpf/meson.build"
	ok $? "bpf/meson.build hard-codes neither x86_64's include dir nor its macro"
fi
grep -q -- '-Dwerror=true' "$MESON_SOURCE_ROOT/scripts/build.sh"
ok $? "scripts/build.sh, which CI runs, asks for -Dwerror=true"

tap_done
