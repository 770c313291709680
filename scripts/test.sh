#!/bin/sh
# Install what is missing, build, run the whole test suite, then print
# "N passed, N failed" counted from meson's testlog.json. Exits non-zero on
# any failure, and when no test ran at all.
# Extra arguments go to `meson setup` (e.g. -Db_sanitize=address,undefined).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD=${BUILD:-build}
export BUILD
./scripts/build.sh "$@"

rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || rc=$?
python3 scripts/count-tests.py "$BUILD/meson-logs/testlog.json" || rc=1
exit $rc
