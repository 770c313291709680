#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages render without a warning and say what the programs do:
# every dmactl command and option, every dmad option, every setting of the
# config file, every function of dmaclient.h.
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT MESON_BUILD_ROOT DMAD_BIN DMACTL_BIN
command -v groff >/dev/null || skip_all "groff is not installed (package groff-base)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# A page as installed: generated into the build tree (it names this
# build's paths), or as written.
man_page() {
	if [ -f "$MESON_BUILD_ROOT/man/$1" ]; then
		echo "$MESON_BUILD_ROOT/man/$1"
	else
		echo "$MESON_SOURCE_ROOT/man/$1"
	fi
}

for page in dmad.8 dmactl.8 libdmaclient.3; do
	groff -man -Tutf8 -ww -z "$(man_page "$page")" >"$T/warn" 2>&1
	diag <"$T/warn"
	[ ! -s "$T/warn" ]
	ok $? "$page renders without warnings"
	# The text as a reader searches it: roff's \- is a plain hyphen.
	sed 's/\\-/-/g; s/\\f[BIRP]//g' "$(man_page "$page")" >"$T/$page"
done

# documented PAGE WHAT WORD...: each WORD appears in PAGE.
documented() {
	page=$1 what=$2 missing=''
	shift 2
	for w in "$@"; do
		grep -q -- "$w" "$T/$page" || missing="$missing $w"
	done
	[ -z "$missing" ]
	ok $? "$page documents every $what${missing:+; not:$missing}"
}

# shellcheck disable=SC2046 # one word each
documented dmactl.8 "dmactl command" \
	$("$DMACTL_BIN" help | sed -n '/^Commands:/,/^$/ { /^  /s/^  \([a-z-]*\).*/^\\.BI* \1\\b/p }')
# shellcheck disable=SC2046
documented dmactl.8 "dmactl option" $("$DMACTL_BIN" help | grep -o -- '--[a-z-]*' | sort -u)
# shellcheck disable=SC2046
documented dmad.8 "dmad option" $("$DMAD_BIN" --help | grep -o -- '--[a-z-]*' | sort -u)
# shellcheck disable=SC2046
documented dmad.8 "config file setting" \
	$(grep -o '^DMAD_[A-Z_]*' "$MESON_SOURCE_ROOT/systemd/dmad.default.in")
# shellcheck disable=SC2046
documented libdmaclient.3 "function of dmaclient.h" \
	$(grep -o '^[a-z].*\bdmac_[a-z_]*(' "$MESON_SOURCE_ROOT/lib/dmaclient.h" |
		grep -o 'dmac_[a-z_]*(' | sort -u)

tap_done
