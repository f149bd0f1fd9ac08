#!/usr/bin/env bash
# with-tls.sh CMD [ARGS...] — puts a TLS endpoint in front of the test S3 server for CMD:
# a throw-away certificate authority and a server certificate for 127.0.0.1 (openssl), and
# stunnel on a free port forwarding to $SLUICE_TEST_S3_ENDPOINT. CMD gets
#   SLUICE_TEST_TLS_ENDPOINT  https://127.0.0.1:PORT
#   SLUICE_TEST_TLS_CA        the CA certificate (PEM) that signed the server's certificate
# Without stunnel (Debian: stunnel4) or openssl, CMD runs without them and the TLS test skips.
set -euo pipefail

run_plain() { status=0; "$@" || status=$?; exit $status; }

stunnel=$(command -v stunnel4 || command -v stunnel || true)
if [ -z "$stunnel" ] || ! command -v openssl >/dev/null || [ -z "${SLUICE_TEST_S3_ENDPOINT:-}" ]; then
  echo "with-tls.sh: no stunnel, openssl or S3 endpoint: running without a TLS endpoint" >&2
  run_plain "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-tls-XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Sluice test CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" 2>/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
backend=${SLUICE_TEST_S3_ENDPOINT#http://}
cat > "$tmp/stunnel.conf" <<CONF
foreground = yes
pid =
debug = 3
output = $tmp/stunnel.log
[s3]
accept = 127.0.0.1:$port
connect = $backend
cert = $tmp/server.pem
key = $tmp/server.key
CONF
"$stunnel" "$tmp/stunnel.conf" &
pid=$!

for _ in $(seq 1 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

export SLUICE_TEST_TLS_ENDPOINT="https://127.0.0.1:$port"
export SLUICE_TEST_TLS_CA="$tmp/ca.pem"
status=0
"$@" || status=$?
exit $status
