#!/bin/sh
# Configure (once) and build into ${BUILD:-build}. Extra arguments go to meson setup.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$@" >/dev/null
ninja -C "$BUILD"
