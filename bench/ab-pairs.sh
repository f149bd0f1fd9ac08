#!/usr/bin/env bash
# ab-pairs.sh — two builds of sluice-cli on one corpus, alternating, for a change too small for
# run-bench.sh's noise (issue 5). Each run ingests into a fresh bucket with the page cache
# dropped first; the order flips every pair (A B, B A, A B, …); the bucket is emptied after
# each run, so that the test server's 20 GiB OSD does not fill up (a full Ceph stops answering).
#
#   bench/ab-pairs.sh [--pairs N] [--settle S] [--server DIR] CORPUS CLI_A CLI_B [-- INGEST_ARGS…]
#
# CORPUS: a folder (run-bench.sh leaves its corpora in WORK/corpora/{a,b,c}). CLI_A, CLI_B: two
# sluice-cli binaries of build trees (each finds the sluice-probe of its own tree). --server: a
# test server started with `tests/s3/sluice-test-s3.sh start DIR` (default: one is started in
# a temporary folder and stopped at the end). Prints every run (wall, client CPU = user+sys of
# the tree) and the medians of each side with B/A. Needs root (drop_caches), rclone (purge).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PAIRS=4 SETTLE=2 SERVER=
while [ $# -gt 0 ]; do
  case $1 in
    --pairs) PAIRS=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --server) SERVER=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
CORPUS=$1 CLI_A=$(realpath "$2") CLI_B=$(realpath "$3"); shift 3
[ "${1:-}" = -- ] && shift
EXTRA=("$@")
[ "$(id -u)" = 0 ] || { echo "ab-pairs.sh: needs root (drop_caches)" >&2; exit 1; }
command -v rclone >/dev/null || { echo "ab-pairs.sh: apt-get install rclone" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sluice-ab-XXXXXX)
own_server=0
if [ -z "$SERVER" ]; then
  SERVER=$tmp/s3
  bash "$REPO/tests/s3/sluice-test-s3.sh" start "$SERVER" >/dev/null
  own_server=1
fi
cleanup() {
  [ "$own_server" = 0 ] || bash "$REPO/tests/s3/sluice-test-s3.sh" stop "$SERVER" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck disable=SC1091
. "$SERVER/env"
cat >"$tmp/rclone.conf" <<EOF
[s3]
type = s3
provider = Ceph
access_key_id = $AWS_ACCESS_KEY_ID
secret_access_key = $AWS_SECRET_ACCESS_KEY
endpoint = $SLUICE_TEST_S3_ENDPOINT
region = $AWS_DEFAULT_REGION
EOF

run() {   # run SIDE CLI PAIR
  local side=$1 cli=$2 pair=$3 bucket
  bucket="ab-${side,,}-$pair-$$"
  "$cli" make-bucket "s3://$bucket" --endpoint "$SLUICE_TEST_S3_ENDPOINT" >/dev/null
  rm -f "$tmp/catalog.db"*
  sync
  echo 3 >/proc/sys/vm/drop_caches
  sleep "$SETTLE"
  SLUICE_PROBE_PATH=$(dirname "$(dirname "$cli")")/probe/sluice-probe \
    /usr/bin/time -o "$tmp/time" -f "%e %U %S" "$cli" ingest "$CORPUS" "s3://$bucket/x" \
      --endpoint "$SLUICE_TEST_S3_ENDPOINT" --catalog "$tmp/catalog.db" "${EXTRA[@]}" \
      >/dev/null 2>"$tmp/err" || { echo "$side $pair: exit $?" >&2; tail -3 "$tmp/err" >&2; }
  # (AWS_CA_BUNDLE, set on some machines, makes rclone 1.60 fail: see run-bench.sh)
  env -u AWS_CA_BUNDLE rclone --config "$tmp/rclone.conf" purge --checkers 32 "s3:$bucket" \
      >"$tmp/purge" 2>&1 \
    || { echo "$side $pair: could not empty $bucket:" >&2; tail -2 "$tmp/purge" >&2; }
  # (time's last line: a failed command gets a line of its own before it)
  tail -1 "$tmp/time" | awk -v side="$side" -v pair="$pair" '{ print side, pair, $1, $2 + $3 }' \
    | tee -a "$tmp/runs"
}

echo "side pair wall_s cpu_s"
for pair in $(seq "$PAIRS"); do
  if [ $((pair % 2)) = 1 ]; then run A "$CLI_A" "$pair"; run B "$CLI_B" "$pair"
  else run B "$CLI_B" "$pair"; run A "$CLI_A" "$pair"; fi
done
python3 - "$tmp/runs" <<'EOF'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
med = {side: [statistics.median(float(r[i]) for r in runs if r[0] == side) for i in (2, 3)]
       for side in ("A", "B")}
for side in ("A", "B"):
    print(f"median {side}: wall {med[side][0]:.2f} s, CPU {med[side][1]:.2f} s")
print(f"B/A: wall {med['B'][0] / med['A'][0]:.3f}, CPU {med['B'][1] / med['A'][1]:.3f}")
EOF
