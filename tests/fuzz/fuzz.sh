#!/bin/sh
# Build one libFuzzer target with clang, replay its committed corpus (every
# crash found so far is in there), then fuzz it for $FUZZ_SECONDS (30 by
# default). Speaks TAP. Built here rather than by ninja because the project
# compiles with gcc, and because a fuzzer that no longer builds should fail
# its own test, not the whole build.
#
# Usage: fuzz.sh NAME CORPUS_DIR WORK_DIR [LIBFUZZER_OPTION...] -- CLANG_ARG...
set -u

name=$1 corpus=$2 work=$3
shift 3
opts=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	opts="$opts $1"
	shift
done
[ $# -gt 0 ] && shift
cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-30}
bin=$work/fuzz-$name

diag_file() {
	tail -n "$2" "$1" | sed 's/^/# /'
}

mkdir -p "$work/new" || exit 1
probe='int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }'
if ! printf '%s\n' "$probe" | "$cc" -x c - -fsanitize=fuzzer -o "$work/probe" 2>"$work/probe.log"; then
	diag_file "$work/probe.log" 5
	echo "1..0 # SKIP $cc cannot link libFuzzer (Debian 12: apt-get install clang libclang-rt-14-dev)"
	exit 77
fi

echo "1..3"
if "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer "$@" -o "$bin" >"$work/build.log" 2>&1; then
	echo "ok 1 - fuzz-$name builds with $cc"
else
	diag_file "$work/build.log" 40
	echo "not ok 1 - fuzz-$name builds with $cc"
	echo "ok 2 - corpus replay # SKIP not built"
	echo "ok 3 - fuzzing # SKIP not built"
	exit 0
fi

# Each committed input once: seeds and regressions.
n=$(find "$corpus" -type f | wc -l)
# shellcheck disable=SC2086
if find "$corpus" -type f -print0 | xargs -0 -r "$bin" $opts -timeout=10 >"$work/replay.log" 2>&1; then
	echo "ok 2 - $n committed inputs in $corpus run cleanly"
else
	diag_file "$work/replay.log" 40
	echo "not ok 2 - $n committed inputs in $corpus run cleanly"
fi

# New inputs go to the build directory, never into the source tree.
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
# shellcheck disable=SC2086
"$bin" $opts -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
	-artifact_prefix="$work/" "$work/new" "$corpus" >"$work/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log")
if [ $rc -eq 0 ]; then
	echo "ok 3 - fuzz-$name: ${runs:-?} executions in $seconds s (${rate:-?}/s), no failure"
else
	diag_file "$work/fuzz.log" 60
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$f" ] && echo "# failing input: $f (add it to $corpus as a regression)"
	done
	echo "not ok 3 - fuzz-$name: failed after ${runs:-?} executions (exit $rc)"
fi
exit 0
