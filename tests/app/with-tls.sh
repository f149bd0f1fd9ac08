#!/usr/bin/env bash
# with-tls.sh CMD [ARGS...] — puts a TLS endpoint in front of the test S3 server for CMD
# (tests/s3/https-front.sh: a throw-away certificate authority, stunnel on a free port
# forwarding to $SLUICE_TEST_S3_ENDPOINT). CMD gets
#   SLUICE_TEST_TLS_ENDPOINT  https://127.0.0.1:PORT
#   SLUICE_TEST_TLS_CA        the CA certificate (PEM) that signed the server's certificate
# Without stunnel (Debian: stunnel4) or openssl, CMD runs without them and the TLS test skips.
set -euo pipefail

# shellcheck source=../s3/https-front.sh
. "$(dirname "${BASH_SOURCE[0]}")/../s3/https-front.sh"

run_plain() { status=0; "$@" || status=$?; exit $status; }

if [ -z "${SLUICE_TEST_S3_ENDPOINT:-}" ]; then
  echo "with-tls.sh: no S3 endpoint: running without a TLS endpoint" >&2
  run_plain "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-tls-XXXXXX")
HTTPS_FRONT_PID=
cleanup() {
  [ -n "$HTTPS_FRONT_PID" ] && kill "$HTTPS_FRONT_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! https_front_start "$tmp" "$SLUICE_TEST_S3_ENDPOINT"; then
  echo "with-tls.sh: running without a TLS endpoint" >&2
  run_plain "$@"
fi

export SLUICE_TEST_TLS_ENDPOINT=$HTTPS_FRONT_ENDPOINT
export SLUICE_TEST_TLS_CA=$HTTPS_FRONT_CA
status=0
"$@" || status=$?
exit $status
