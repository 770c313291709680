#!/bin/sh
# SPDX-License-Identifier: MIT
# Where `meson install` puts things, for the layouts that matter, from
# scratch configurations of this tree (nothing is built): a package's
# --prefix=/usr --sysconfdir=/etc, meson's default prefix, and the
# overrides. Units and the sysusers entry go where systemd's pkg-config
# says (Debian 12: /lib/systemd/system for prefix /usr), and the settings
# file the installed unit reads is the one the README and the installed
# dmad(8) name: /etc/default/dmad, in both layouts.
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT
command -v meson >/dev/null || skip_all "meson is not installed"
command -v pkg-config >/dev/null || skip_all "pkg-config is not installed"
pkg-config --exists systemd || skip_all "no systemd.pc (package systemd-dev or systemd)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# setup NAME MESON-ARGS...: configure $T/NAME; the build's installed paths
# go to $T/NAME.installed.
setup() {
	name=$1
	shift
	meson setup "$T/$name" "$MESON_SOURCE_ROOT" -Dtests=false "$@" >"$T/$name.out" 2>&1 &&
		meson introspect --installed "$T/$name" >"$T/$name.installed"
	status=$?
	[ $status -eq 0 ] || diag <"$T/$name.out"
	ok $status "meson setup ${*:-with its default prefix} (exit $status)"
}

# dest NAME FILE: where `meson install` of build NAME puts FILE (by name).
dest() {
	python3 -c '
import json, os, sys
for dst in json.load(open(sys.argv[1])).values():
    if os.path.basename(dst) == sys.argv[2]:
        print(dst)' "$T/$1.installed" "$2"
}

# in_dir NAME FILE DIR: FILE is installed into DIR.
in_dir() {
	got=$(dest "$1" "$2")
	[ "$(dirname "$got")" = "$3" ]
	ok $? "$1: $2 goes to $3 (${got:-nowhere})"
}

# reads NAME CONFIG: the unit reads CONFIG and passes it to dmad, and the
# installed dmad(8) and settings template name it.
reads() {
	unit=$T/$1/systemd/dmad.service
	grep -q "^EnvironmentFile=-$2\$" "$unit" && grep -q "^ExecStart=.*/dmad --config $2 " "$unit"
	ok $? "$1: dmad.service reads $2 ($(grep '^EnvironmentFile=' "$unit"))"
	grep -q "^\\.I $2\$" "$T/$1/man/dmad.8" && grep -q "Install as $2\\." "$T/$1/systemd/dmad.default"
	ok $? "$1: dmad(8) and the settings template name $2"
}

# A package (Debian): pkg-config's answers as they stand.
setup deb --prefix=/usr --sysconfdir=/etc
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
in_dir deb dmad.service "$unitdir"
in_dir deb dmad.socket "$unitdir"
in_dir deb dmad.conf "$(pkg-config --variable=sysusersdir systemd)"
grep -q "^\\.IR $unitdir/dmad.service" "$T/deb/man/dmad.8"
ok $? "deb: dmad(8) names the unit where it is installed ($unitdir)"
grep -q '^ExecStart=/usr/sbin/dmad ' "$T/deb/systemd/dmad.service"
ok $? "deb: the unit starts /usr/sbin/dmad"
reads deb /etc/default/dmad
missing=''
for f in $(grep -o '^[a-z].*\bdmac_[a-z_]*(' "$MESON_SOURCE_ROOT/lib/dmaclient.h" |
	grep -o 'dmac_[a-z_]*(' | tr -d '(' | sort -u); do
	[ "$(dest deb "$f.3")" = "/usr/share/man/man3/$f.3" ] || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "deb: a page per function of dmaclient.h in /usr/share/man/man3${missing:+; not:$missing}"

# meson's default prefix: pkg-config's layout moved under /usr/local,
# where systemd looks too; the settings file stays the documented one.
setup local
in_dir local dmad.service "$(pkg-config --define-variable=root_prefix=/usr/local \
	--variable=systemdsystemunitdir systemd)"
in_dir local dmad.conf "$(pkg-config --define-variable=prefix=/usr/local \
	--variable=sysusersdir systemd)"
reads local /etc/default/dmad
# shellcheck disable=SC2016 # the backquotes are Markdown's
grep -q '`/etc/default/dmad`' "$MESON_SOURCE_ROOT/README.md"
ok $? "the README names /etc/default/dmad too"

# The overrides win.
setup custom --prefix=/usr -Dsystemdsystemunitdir=/usr/lib/systemd/system \
	-Dconfigfile=/etc/sysconfig/dmad
in_dir custom dmad.service /usr/lib/systemd/system
reads custom /etc/sysconfig/dmad

tap_done
