#!/usr/bin/env bash
# run-tests.sh — installs what is missing, builds, and runs the whole test suite (unit, packaging,
# UI under Xvfb, and integration tests against a local Ceph RGW S3 server it starts itself).
# Ends with the line "N passed, N failed[, N skipped]" (counting TAP subtests) and exits non-zero
# when anything failed.
#   BUILD_DIR   build directory (default: _build)
#   MESON_TEST_ARGS  extra arguments for `meson test` (e.g. "--suite engine")
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-_build}

bash tools/install-deps.sh all

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null
fi
ninja -C "$build" >/dev/null

# One S3 server for the whole run (each integration test would otherwise start its own).
export SLUICE_TEST_S3_DIR="$top/$build/s3-server"
s3=tests/s3/sluice-test-s3.sh
started=0
if ! bash "$s3" status "$SLUICE_TEST_S3_DIR" >/dev/null 2>&1; then
  bash "$s3" start "$SLUICE_TEST_S3_DIR" >/dev/null
  started=1
fi
cleanup() { [ "$started" = 1 ] && bash "$s3" stop "$SLUICE_TEST_S3_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT

status=0
# shellcheck disable=SC2086
meson test -C "$build" --print-errorlogs ${MESON_TEST_ARGS:-} || status=$?

python3 tools/count-tests.py "$build/meson-logs/testlog.json" || status=1
exit $status
