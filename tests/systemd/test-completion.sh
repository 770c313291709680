#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion of dmactl offers every command dmactl has (it asks
# `dmactl help`), the options of each, log levels, the fault kinds, and
# the devices of the daemon the command line names (released ones for
# reset-failed).
set -u
. "$(dirname "$0")/tap.sh"
need MESON_SOURCE_ROOT DMAD_BIN DMACTL_BIN

# What a user's shell has: scripts/setup.sh installs bash-completion.
grep -q 'bash-completion' "$MESON_SOURCE_ROOT/scripts/setup.sh"
ok $? "scripts/setup.sh installs bash-completion"
if [[ -f /usr/share/bash-completion/bash_completion ]]; then
	echo "with bash-completion's own _init_completion" | diag
	# shellcheck disable=SC1091
	. /usr/share/bash-completion/bash_completion
else
	echo "bash-completion is not installed: with stand-ins for its helpers" | diag
	# The two helpers the completion uses, as bash-completion has them, cut down.
	_init_completion() {
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${words[cword]}
		prev=${words[cword - 1]:-}
	}
	_filedir() {
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	}
fi
# shellcheck source=../../completion/dmactl
. "$MESON_SOURCE_ROOT/completion/dmactl"

# offers WORD...: what completing the last word (maybe "") offers, sorted, on one line.
# As bash sets them for a completion: bash-completion's _init_completion
# re-splits COMP_LINE up to COMP_POINT, and reads COMP_WORDS only with them.
offers() {
	COMP_WORDS=("$DMACTL_BIN" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_dmactl
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect WANT WORD...: completing WORD... offers exactly WANT.
expect() {
	local want=$1 got
	shift
	got=$(offers "$@")
	[[ $got == "$want" ]]
	ok $? "dmactl $* <TAB> offers '$got'"
	[[ $got == "$want" ]] || echo "wanted '$want'" | diag
}

complete -p dmactl | grep -q -- '-F _dmactl'
ok $? "dmactl completes with _dmactl"

commands=$("$DMACTL_BIN" help | sed -n '/^Commands:/,/^$/ { /^  /s/^  \([a-z-]*\).*/\1/p }' | sort | tr '\n' ' ' | sed 's/ $//')
[[ " $commands " == *" status "* && " $commands " == *" log-level "* ]]
ok $? "dmactl help lists its commands ($commands)"
expect "$commands" ""
expect "log-level" lo
expect "--help --json --no-legend --socket --version" --
expect "--socket" --so
expect "debug" log-level d
expect "debug err info notice warning" log-level ""
expect "--timeout" remove --t
expect "--help --json --no-legend" status --
expect "hang" fault dma_skeleton0 ""

T=$(mktemp -d)
pid=''
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$T"' EXIT
"$DMAD_BIN" --socket "$T/s" --engines 2 >"$T/log" 2>&1 &
pid=$!
wait_dmad "$DMACTL_BIN" "$T/s" || bail "dmad did not start: $(cat "$T/log")"
expect "dma_skeleton0 dma_skeleton1" --socket "$T/s" remove ""
expect "dma_skeleton1" --socket "$T/s" fault dma_skeleton1
expect "dma_skeleton0 dma_skeleton1" --socket "$T/s" status ""
expect "" --socket "$T/s" remove dma_skeleton0 ""
# A released device: reset-failed offers it, remove and status no longer do.
"$DMACTL_BIN" --socket "$T/s" remove dma_skeleton0 >/dev/null
expect "dma_skeleton0" --socket "$T/s" reset-failed ""
expect "dma_skeleton1" --socket "$T/s" remove ""
# No daemon at the default socket: no device to offer, and no error either.
DMAD_SOCKET=$T/none expect "" remove ""
kill -TERM "$pid"
wait "$pid"
ok $? "the daemon asked for devices exits 0"
pid=''

tap_done
