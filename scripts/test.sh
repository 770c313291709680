#!/bin/sh
# Install what is missing, then build and run the test suite twice: in
# build/ as configured, and in build-asan/ with AddressSanitizer and
# UndefinedBehaviorSanitizer (LeakSanitizer on). The last line printed is
# "N passed, N failed, N skipped" over both runs, from meson's testlog.json
# files. Exits non-zero on any failure, and when no test ran at all.
#
# The sanitizer run leaves out two suites: fuzz (its targets carry ASan and
# UBSan themselves and are not registered in a sanitizer build) and systemd
# (it checks the production build: the unit's system call filter, and an
# example linked against the installed library, which an ASan library
# cannot be); the fd store tests, in their own suite, do run there. Churn
# runs shorter there; ASan makes every copy slower.
# Extra arguments go to `meson setup` of both builds.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}

BUILD=$BUILD ./scripts/build.sh "$@"
BUILD=$ASAN_BUILD ./scripts/build.sh -Db_sanitize=address,undefined -Db_lundef=false "$@"

rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || rc=$?
SOAK_SECONDS=${SOAK_SECONDS:-10} meson test -C "$ASAN_BUILD" --print-errorlogs \
	--num-processes 2 --no-suite fuzz --no-suite systemd || rc=$?
python3 scripts/count-tests.py "$BUILD/meson-logs/testlog.json" \
	"$ASAN_BUILD/meson-logs/testlog.json" || rc=1
exit $rc
