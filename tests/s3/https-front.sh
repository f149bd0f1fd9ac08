# https-front.sh — sourced by bash scripts: an HTTPS endpoint in front of a plain HTTP one, as
# a real S3 endpoint is reached. A throw-away certificate authority, a server certificate for
# 127.0.0.1 (and localhost) signed by it (openssl), and stunnel on a free port forwarding to the
# plain endpoint. Used by tests/app/with-tls.sh and bench/run-bench.sh --tls.
#
#   https_front_start DIR http://HOST:PORT
#       DIR: an existing folder for the keys, the configuration and stunnel.log.
#       Sets HTTPS_FRONT_ENDPOINT (https://127.0.0.1:PORT), HTTPS_FRONT_CA (the CA's PEM) and
#       HTTPS_FRONT_PID (stunnel, in the background: the caller kills it). Returns non-zero,
#       with a message on stderr, when stunnel (Debian: stunnel4) or openssl is missing or
#       stunnel does not start.

https_front_start() {
  local dir=$1 backend=${2#http://} stunnel port _
  stunnel=$(command -v stunnel4 || command -v stunnel || true)
  if [ -z "$stunnel" ] || ! command -v openssl >/dev/null; then
    echo "https-front.sh: needs stunnel (Debian: stunnel4) and openssl" >&2
    return 1
  fi
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Sluice test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null &&
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$dir/san.ext" &&
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null ||
    { echo "https-front.sh: openssl could not make the certificates" >&2; return 1; }

  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$dir/stunnel.conf" <<CONF
foreground = yes
pid =
debug = 3
output = $dir/stunnel.log
[s3]
accept = 127.0.0.1:$port
connect = $backend
cert = $dir/server.pem
key = $dir/server.key
CONF
  "$stunnel" "$dir/stunnel.conf" 2>>"$dir/stunnel.log" &
  HTTPS_FRONT_PID=$!
  # (these probes close without a handshake: stunnel logs an "unexpected eof" for each)
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! kill -0 "$HTTPS_FRONT_PID" 2>/dev/null; then
    echo "https-front.sh: stunnel did not start, see $dir/stunnel.log" >&2
    return 1
  fi
  HTTPS_FRONT_ENDPOINT=https://127.0.0.1:$port
  HTTPS_FRONT_CA=$dir/ca.pem
}
