# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# TAP for the shell tests, sourced: `cmd; ok $? "what it shows"`.

tap_n=0
tap_failed=0

# ok STATUS DESCRIPTION: a check that passed when STATUS is 0.
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# skip WHY: a check that does not apply here.
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $*"
}

# Standard input as "# " lines.
diag() {
	sed 's/^/# /'
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# The plan, and the exit status: 1 when any check failed.
tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# need VAR...: each must be set (by meson test) and not empty.
need() {
	for v in "$@"; do
		eval "[ -n \"\${$v:-}\" ]" || bail "$v is not set: run this test with meson test"
	done
}

# wait_dmad DMACTL SOCKET: until dmad answers `dmactl status` there (20 s at most).
wait_dmad() {
	for _ in $(seq 200); do
		"$1" --socket "$2" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
