#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages render without a warning and say what the programs do:
# every dmactl command and option, every dmad option, every setting of the
# config file, every function of dmaclient.h. And every public function
# has a page of its own (as liburing's), installed by meson, naming the
# function, with its calling context (CONTEXT), RETURN VALUE, and every
# errno its comment in dmaclient.h names.
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT MESON_BUILD_ROOT DMAD_BIN DMACTL_BIN
command -v groff >/dev/null || skip_all "groff is not installed (package groff-base)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# A page as installed: generated into the build tree (it names this
# build's paths and version), or as written (a .so link).
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

# A command is an entry of its own (.B, .BI or .BR): one word each, no blank.
# shellcheck disable=SC2046 # one word each
documented dmactl.8 "dmactl command" \
	$("$DMACTL_BIN" help |
		sed -n '/^Commands:/,/^$/ { /^  /s/^  \([a-z-]*\).*/^\\.B[IR]*[[:space:]]\1\\b/p }')
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

# Every function dmaclient.h declares, one a line.
grep -o '^[a-z].*\bdmac_[a-z_]*(' "$MESON_SOURCE_ROOT/lib/dmaclient.h" | grep -o 'dmac_[a-z_]*(' |
	tr -d '(' | sort -u >"$T/functions"
: >"$T/nopage"
: >"$T/noinstall"
: >"$T/bad"
while read -r f; do
	[ -f "$(man_page "$f.3")" ] || echo "$f" >>"$T/nopage"
	grep -q "'$f.3'" "$MESON_SOURCE_ROOT/man/meson.build" || echo "$f" >>"$T/noinstall"
done <"$T/functions"
[ ! -s "$T/nopage" ]
ok $? "every public function has a page of its own ($(wc -l <"$T/functions") functions)$(
	[ -s "$T/nopage" ] && echo "; not:" $(cat "$T/nopage"))"
[ ! -s "$T/noinstall" ]
ok $? "man/meson.build installs each$([ -s "$T/noinstall" ] && echo "; not:" $(cat "$T/noinstall"))"

# A page, with a .so link followed, as the text a reader gets.
while read -r f; do
	page=$(man_page "$f.3")
	[ -f "$page" ] || continue
	so=$(sed -n 's|^\.so man3/||p' "$page")
	[ -z "$so" ] || page=$(man_page "$so")
	groff -man -Tutf8 -ww -z "$page" >"$T/warn" 2>&1 || echo "groff failed" >>"$T/warn"
	sed "s/^/$f: /" "$T/warn" | diag
	sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page" >"$T/$f.txt"
	{ [ ! -s "$T/warn" ] && sed -n '/^\.SH NAME/{n;p}' "$T/$f.txt" | grep -q "\b$f\b" &&
		grep -q "\b$f(" "$T/$f.txt" && grep -q '^\.SH CONTEXT' "$T/$f.txt" &&
		grep -q '^\.SH RETURN VALUE' "$T/$f.txt" && grep -q '^\.SH SEE ALSO' "$T/$f.txt"; } ||
		echo "$f" >>"$T/bad"
done <"$T/functions"
[ ! -s "$T/bad" ]
ok $? "each renders without warnings, names its function, has CONTEXT, RETURN VALUE, SEE ALSO$(
	[ -s "$T/bad" ] && echo "; not:" $(cat "$T/bad"))"

# The errnos a function's comment in dmaclient.h names, each in its page.
cat >"$T/errnos.py" <<'EOF'
import os, re, sys
header, tmp = sys.argv[1], sys.argv[2]
lines = open(header).read().split('\n')
for f in open(os.path.join(tmp, 'functions')).read().split():
    at = next(i for i, l in enumerate(lines) if re.match(r'[a-z].*\b%s\(' % f, l))
    end = max(i for i in range(at) if lines[i].strip().endswith('*/'))
    start = max(i for i in range(end + 1) if lines[i].lstrip().startswith('/*'))
    page = os.path.join(tmp, f + '.txt')
    text = open(page).read() if os.path.exists(page) else ''
    for e in sorted(set(re.findall(r'\b(E[A-Z]{2,})\b', '\n'.join(lines[start:end + 1])))):
        if e not in text:
            print('%s: %s' % (f, e))
EOF
python3 "$T/errnos.py" "$MESON_SOURCE_ROOT/lib/dmaclient.h" "$T" >"$T/errnos" 2>&1
diag <"$T/errnos"
[ ! -s "$T/errnos" ]
ok $? "each page names every errno its comment in dmaclient.h names"

tap_done
