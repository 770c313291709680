#!/bin/sh
# SPDX-License-Identifier: MIT
# `meson install` into a DESTDIR puts every piece where it belongs (units
# where systemd's pkg-config says, a man page per function where man finds
# it), and an out-of-tree client builds
# against the staged library with pkg-config alone, both with the
# README's one-liner and with examples/Makefile, links the staged
# libdmaclient, and copies through the staged dmad.
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT MESON_BUILD_ROOT DMAD_PREFIX DMAD_INSTALLED
command -v cc >/dev/null || skip_all "no C compiler"
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed"

T=$(mktemp -d)
pid=''
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
stage=$T/stage
root=$stage$DMAD_PREFIX

meson install -C "$MESON_BUILD_ROOT" --no-rebuild --quiet --destdir "$stage" >"$T/install.out" 2>&1
status=$?
[ $status -eq 0 ] || diag <"$T/install.out"
ok $status "meson install --destdir (exit $status)"

# Where the pieces must be: found, not assumed, where the layout is the platform's.
pc=$(find "$stage" -name libdmaclient.pc | head -n 1)
libdir=$(dirname "$(dirname "$pc")")
unitdir=${DMAD_UNITDIR_OPTION:-}
if [ -z "$unitdir" ] && [ "$(pkg-config --variable=prefix systemd 2>/dev/null)" = "$DMAD_PREFIX" ]; then
	unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
elif [ -z "$unitdir" ]; then
	unitdir=$(pkg-config --define-variable=root_prefix="$DMAD_PREFIX" \
		--variable=systemdsystemunitdir systemd 2>/dev/null || echo "$DMAD_PREFIX/lib/systemd/system")
fi
dmad=$stage$DMAD_INSTALLED
dmactl=$root/bin/dmactl
status=0
[ -x "$dmad" ] && [ -x "$dmactl" ] || status=1
for f in include/dmaclient.h share/man/man8/dmad.8 \
	share/man/man8/dmactl.8 share/man/man3/libdmaclient.3 share/dmad/dmad.default; do
	[ -f "$root/$f" ] || { echo "missing: $DMAD_PREFIX/$f" | diag; status=1; }
done
for f in "$unitdir/dmad.service" "$unitdir/dmad.socket"; do
	[ -f "$stage$f" ] || { echo "missing: $f" | diag; status=1; }
done
if [ -z "$pc" ] || [ ! -e "$libdir/libdmaclient.so" ]; then
	echo "no libdmaclient.pc or .so" | diag
	status=1
fi
[ -n "$(find "$stage" -path '*/sysusers.d/dmad.conf')" ] || status=1
[ -n "$(find "$stage" -path '*/bash-completion/completions/dmactl')" ] || status=1
ok $status "binaries, library, header, .pc, units ($unitdir), sysusers.d, man pages, completion"

grep -q "^ExecStart=$DMAD_INSTALLED " "$stage$unitdir/dmad.service"
ok $? "the installed unit starts the installed dmad"

# `man dmac_memcpy` works: every public function's page is where man looks,
# .so links included (man-db follows them).
if command -v man >/dev/null; then
	missing=''
	for f in $(grep -o '^[a-z].*\bdmac_[a-z_]*(' "$MESON_SOURCE_ROOT/lib/dmaclient.h" |
		grep -o 'dmac_[a-z_]*(' | tr -d '(' | sort -u); do
		MANWIDTH=80 man -M "$root/share/man" -P cat "$f" 2>/dev/null | grep -q "\b$f\b" ||
			missing="$missing $f"
	done
	[ -z "$missing" ]
	ok $? "man FUNCTION shows the installed page of each function of dmaclient.h${missing:+; not:$missing}"
else
	skip "man is not installed (package man-db)"
fi

export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
mkdir "$T/ex"
cp "$MESON_SOURCE_ROOT/examples/dmac-copy.c" "$MESON_SOURCE_ROOT/examples/Makefile" "$T/ex/"
# shellcheck disable=SC2046 # pkg-config's words, as the README writes it
(cd "$T/ex" && cc dmac-copy.c $(pkg-config --cflags --libs libdmaclient) -o dmac-copy-cc) \
	>"$T/cc.out" 2>&1
status=$?
diag <"$T/cc.out"
ok $status "cc dmac-copy.c \$(pkg-config --cflags --libs libdmaclient)"

make -C "$T/ex" >"$T/make.out" 2>&1
status=$?
diag <"$T/make.out"
ok $status "make with examples/Makefile (exit $status)"
! grep -q -e "$MESON_SOURCE_ROOT" -e "$MESON_BUILD_ROOT" "$T/make.out"
ok $? "the compile line names nothing from the source or build tree"

LD_LIBRARY_PATH=$libdir ldd "$T/ex/dmac-copy" >"$T/ldd.out" 2>&1
grep -q "libdmaclient.so.0 => $libdir/" "$T/ldd.out"
ok $? "it links the staged libdmaclient ($(grep libdmaclient "$T/ldd.out" | tr -s ' \t' ' '))"

"$dmad" --socket "$T/dmad.sock" --engines 1 >"$T/dmad.log" 2>&1 &
pid=$!
wait_dmad "$dmactl" "$T/dmad.sock"
ok $? "the staged dmad starts and the staged dmactl reaches it"

for prog in dmac-copy dmac-copy-cc; do
	LD_LIBRARY_PATH=$libdir "$T/ex/$prog" --socket "$T/dmad.sock" --seconds 1 >"$T/run.out" 2>&1
	status=$?
	diag <"$T/run.out"
	[ $status -eq 0 ] && grep -q "every byte verified" "$T/run.out"
	ok $? "$prog copies through it, every byte verified (exit $status)"
done

kill -TERM "$pid"
wait "$pid"
status=$?
pid=''
[ $status -eq 0 ] || diag <"$T/dmad.log"
ok $status "dmad exits 0 on SIGTERM"

tap_done
