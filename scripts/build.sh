#!/bin/sh
# Configure (once) and build into ${BUILD:-build}, with everything in it:
# receive offload and the tests are required here (a missing tool fails
# the build rather than leaving them out), and warnings are errors, as in
# CI. Neither is a default of the project itself, which a distribution's
# build inherits. Extra arguments go to meson setup, after these, so they win.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -f "$BUILD/build.ninja" ] ||
	meson setup "$BUILD" -Dwerror=true -Drx=enabled -Dtests=true "$@" >/dev/null
ninja -C "$BUILD"
