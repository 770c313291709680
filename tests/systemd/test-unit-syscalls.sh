#!/bin/bash
# SPDX-License-Identifier: MIT
# dmad.service confines dmad to SystemCallFilter= and
# RestrictAddressFamilies=; a call outside them fails with EPERM in
# production and nowhere else. So run dmad under strace through what it
# does in service (start, clients copying, dmactl, add and remove a
# device, reload, stop) and check that every system call that succeeded,
# and every socket family it opened, is one the unit allows. A call that
# failed anyway (EAL's iopl() probe) shows dmad copes without it.
set -u
. "$(dirname "$0")/tap.sh"
need DMAD_BIN DMACTL_BIN DMAC_COPY_BIN DMAD_UNIT
command -v strace >/dev/null || skip_all "strace is not installed (package strace)"
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed (package systemd)"

T=$(mktemp -d)
strace_pid='' pid=''
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	[ -n "$strace_pid" ] && wait "$strace_pid"
	rm -rf "$T"
}
trap cleanup EXIT
sock=$T/dmad.sock
ctl() { "$DMACTL_BIN" --socket "$sock" "$@" >"$T/ctl.out" 2>&1; }

# The allow list, groups expanded (they nest).
declare -A allowed seen
expand() {
	local g
	for g in "$@"; do
		[[ -n ${seen[$g]:-} ]] && continue
		seen[$g]=1
		if [[ $g == @* ]]; then
			# shellcheck disable=SC2046 # one name per line, no spaces
			expand $(systemd-analyze syscall-filter "$g" 2>/dev/null |
				sed -n '2,$ { /#/d; s/^ *//p }')
		else
			allowed[$g]=1
		fi
	done
}
filter=$(sed -n 's/^SystemCallFilter=//p' "$DMAD_UNIT")
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$DMAD_UNIT")
[[ -n $filter && $filter != *~* ]] || bail "expected an allow list in SystemCallFilter=, not '$filter'"
# shellcheck disable=SC2086 # words
expand $filter
echo "SystemCallFilter=$filter: ${#allowed[@]} calls" | diag

echo "DMAD_LOG_LEVEL=debug" >"$T/dmad.conf"
strace -f -qq -o "$T/trace" "$DMAD_BIN" --socket "$sock" --engines 2 --workers 2 \
	--config "$T/dmad.conf" >"$T/dmad.log" 2>&1 &
strace_pid=$!
wait_dmad "$DMACTL_BIN" "$sock"
ok $? "dmad runs under strace and answers dmactl status"
# Signals go to dmad itself, strace's child; strace exits with its status.
pid=$(ps -o pid= --ppid "$strace_pid" | tr -d ' ')
[ -n "$pid" ] || bail "no dmad under strace (pid $strace_pid)"
"$DMAC_COPY_BIN" --socket "$sock" --seconds 1 >"$T/copy.out" 2>&1
ok $? "a client copies through it"
ctl add dma_skeleton7 && ctl remove dma_skeleton7 && ctl log-level info
ok $? "dmactl add, remove and log-level"
kill -HUP "$pid" && sleep 0.5 && kill -TERM "$pid"
wait "$strace_pid"
status=$?
strace_pid='' pid=''
ok $status "reloaded, then stopped: exit $status"

# "PID name(args) = ret" or, for a call strace had to split,
# "PID <... name resumed> ...) = ret".
awk '/unfinished \.\.\.>$/ { next }
	/ = -1 E/ { next }
	match($0, /^[0-9]+ +(<\.\.\. )?[a-z0-9_]+[( ]/) {
		s = substr($0, RSTART, RLENGTH - 1)
		sub(/^[0-9]+ +(<\.\.\. )?/, "", s)
		print s
	}' "$T/trace" | sort -u >"$T/used"
echo "dmad made $(wc -l <"$T/used") distinct system calls" | diag
grep -qx io_uring_enter "$T/used" && grep -qx epoll_wait "$T/used"
ok $? "the trace covers the control loop and the workers (io_uring_enter, epoll_wait)"

denied=
while read -r call; do
	[[ -n ${allowed[$call]:-} ]] || denied+=" $call"
done <"$T/used"
[[ -z $denied ]]
ok $? "every call that succeeded is in SystemCallFilter=${denied:+; not:$denied}"

bad=
# shellcheck disable=SC2013 # one family per line, no spaces
for af in $(grep -v ' = -1 E' "$T/trace" | grep -o 'socket(AF_[A-Z0-9]*' | sed 's/socket(//' | sort -u); do
	[[ " $families " == *" $af "* ]] || bad+=" $af"
done
[[ -z $bad ]]
ok $? "every socket family opened is in RestrictAddressFamilies=${bad:+; not:$bad}"

tap_done
