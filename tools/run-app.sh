#!/usr/bin/env bash
# run-app.sh — installs what is missing, builds, starts a local S3 server (Ceph RGW on
# 127.0.0.1, bucket "sluice-demo") as the default target, and opens the Sluice app.
# The server stops when the app closes. Its settings are in _build/demo-s3/env, so that in
# another terminal
#     . _build/demo-s3/env
#     _build/src/cli/sluice-cli ingest ~/Pictures s3://sluice-demo/pictures \
#         --endpoint "$SLUICE_TEST_S3_ENDPOINT"
# runs an ingest against it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-_build}

bash tools/install-deps.sh all
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null

dir="$top/$build/demo-s3"
s3=tests/s3/sluice-test-s3.sh
started=0
if ! bash "$s3" status "$dir" >/dev/null 2>&1; then
  bash "$s3" start "$dir" >/dev/null
  started=1
fi
trap '[ "$started" = 1 ] && bash "$s3" stop "$dir" >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$dir/env"
"$build/src/cli/sluice-cli" make-bucket s3://sluice-demo --endpoint "$SLUICE_TEST_S3_ENDPOINT" \
  2>/dev/null || true   # already there on a second start

# With no saved target, the app offers these as a ready "Local test server" target (kept in
# memory only; the secret comes from the environment).
export SLUICE_DEFAULT_ENDPOINT="$SLUICE_TEST_S3_ENDPOINT" SLUICE_DEFAULT_BUCKET=sluice-demo

cat <<TXT
Local S3 server: $SLUICE_TEST_S3_ENDPOINT  bucket: sluice-demo
From another terminal:
  . $dir/env
  $build/src/cli/sluice-cli ingest ~/Pictures s3://sluice-demo/pictures --endpoint "\$SLUICE_TEST_S3_ENDPOINT"
TXT

GSETTINGS_SCHEMA_DIR="$top/$build/data" "$build/src/app/sluice" "$@"
