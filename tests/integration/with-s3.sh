#!/usr/bin/env bash
# with-s3.sh CMD [ARGS...] — runs CMD with a real S3 server's settings in its environment.
# Reuses the server in $SLUICE_TEST_S3_DIR when one runs there (.ci/run starts one for the whole
# suite); otherwise starts one in the build tree for this command only and stops it after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${SLUICE_TEST_S3_DIR:-${SLUICE_TEST_S3_DIR_DEFAULT:?}}
exec bash "$here/../s3/sluice-test-s3.sh" run "$dir" -- "$@"
