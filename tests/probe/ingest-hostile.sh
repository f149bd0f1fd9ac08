#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# ingest-hostile.sh — end to end: hostile files through sluice-cli against the test S3 server.
#
# A folder of files whose bytes make the test build of the helper (sluice-probe-test-modes, via
# SLUICE_PROBE_PATH) crash, abort, stall, spin, talk garbage, cut its answer, try to write a
# file, exec or open a socket, next to a normal JPEG. Checked:
#   1. the run exits 0: a file whose probe failed is still uploaded, without metadata;
#   2. every file is uploaded, and one helper restart is counted per failed probe;
#   3. the catalog export's warning column names each reason;
#   4. a rerun after touching every file (same bytes, new mtime) restarts no helper;
#   5. with --skip-probe-failed the hostile files fail instead, and a rerun after a touch
#      fails them again from the poison-file record, without giving them to a helper.
#
# Run by meson (suite integration) through tests/integration/with-s3.sh, which exports
# SLUICE_TEST_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION.
# Needs SLUICE_CLI, SLUICE_PROBE_TEST_MODES_PATH and python3 (JSON). Output is TAP.
set -uo pipefail

: "${SLUICE_CLI:?}" "${SLUICE_PROBE_TEST_MODES_PATH:?}" "${SLUICE_TEST_S3_ENDPOINT:?}"

n=0
failures=0
ok() {
  n=$((n + 1))
  echo "ok $n - $*"
}
not_ok() {
  n=$((n + 1))
  failures=$((failures + 1))
  echo "not ok $n - $*"
}
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

if ! command -v python3 >/dev/null 2>&1; then
  echo "1..0 # SKIP python3 is needed to read the JSON summaries"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-hostile.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src"
written=$work/written-by-the-helper

# file name → what the helper is told to do; the expected reason is in the table below
declare -A mode=(
  [crash.jpg]="crash"
  [abort.jpg]="abort"
  [stall.jpg]="stall"
  [spin.jpg]="spin"
  [garbage.jpg]="garbage"
  [truncated.jpg]="truncated"
  [exit-mid-response.jpg]="exit-mid-response"
  [write-file.jpg]="write-file:$written"
  [exec.jpg]="exec"
  [socket.jpg]="socket"
)
declare -A reason=(
  [crash.jpg]="metadata helper crashed with SIGSEGV"
  [abort.jpg]="metadata helper crashed with SIGABRT"
  [stall.jpg]="no progress for 10 s"
  [spin.jpg]="metadata helper crashed with SIGXCPU"
  [garbage.jpg]="probe frame without the magic number"
  [truncated.jpg]="metadata helper exited with status 0"
  [exit-mid-response.jpg]="metadata helper exited with status 1"
  [write-file.jpg]="metadata helper crashed with SIGSYS"
  [exec.jpg]="metadata helper crashed with SIGSYS"
  [socket.jpg]="test mode: socket() failed: Operation not permitted"
)
failing=9   # every mode above except socket, which is refused and answered

for f in "${!mode[@]}"; do
  printf 'SLUICE-TEST:%s' "${mode[$f]}" > "$src/$f"
done
# a normal JPEG: SOI, SOF0 24x16, EOI
printf '\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x18\x01\x01\x11\x00\xff\xd9' > "$src/good.jpg"
total=$(( ${#mode[@]} + 1 ))

target=(--endpoint "$SLUICE_TEST_S3_ENDPOINT" --path-style --region "${AWS_DEFAULT_REGION:-default}")
bucket="sluice-hostile-$$-$RANDOM"
if ! "$SLUICE_CLI" make-bucket "s3://$bucket" "${target[@]}" > "$work/make-bucket.log" 2>&1; then
  echo "Bail out! cannot create bucket $bucket: $(cat "$work/make-bucket.log")"
  exit 1
fi

# ingest CATALOG [OPTIONS...]: runs sluice-cli with the test helper; sets $status, $work/out.json
ingest() {
  local catalog=$1
  shift
  SLUICE_PROBE_PATH=$SLUICE_PROBE_TEST_MODES_PATH "$SLUICE_CLI" ingest --catalog "$catalog" \
    --probes 2 --json "${target[@]}" "$@" "$src" "s3://$bucket/$(basename "$catalog" .db)" \
    > "$work/out.json" 2> "$work/err.log"
  status=$?
  sed 's/^/# stderr: /' "$work/err.log"
}

summary() {
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
path = sys.argv[2].split(".")
for p in path:
    s = s[p]
print(s)' "$work/out.json" "$1"
}

# export CATALOG: "path<TAB>state<TAB>warning" per file into $work/export.tsv
export_catalog() {
  "$SLUICE_CLI" catalog export --catalog "$1" --format jsonl > "$work/export.jsonl" &&
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    print("%s\t%s\t%s" % (row["path"], row["state"], row.get("warning") or ""))' \
    "$work/export.jsonl" > "$work/export.tsv"
}

warning_of() {
  awk -F'\t' -v p="$1" '$1 == p { print $3 }' "$work/export.tsv"
}
state_of() {
  awk -F'\t' -v p="$1" '$1 == p { print $2 }' "$work/export.tsv"
}

touch_all() {
  # a new mtime, the same bytes: read and hashed again, not changed
  sleep 1
  touch "$src"/*
}

# ---- 1-3: default run: everything uploaded, reasons recorded -----------------------------------
ingest "$work/upload.db"
check "the run exits 0 although $failing probes failed (status $status)" test "$status" = 0
check "all $total files are uploaded" test "$(summary files.uploaded)" = "$total"
check "$failing probes failed" test "$(summary files.probe_failed)" = "$failing"
check "one helper restart per failed probe" test "$(summary probe_restarts)" = "$failing"
check "no file was written by a helper" test ! -e "$written"

export_catalog "$work/upload.db"
check "good.jpg has no warning" test -z "$(warning_of good.jpg)"
for f in "${!reason[@]}"; do
  w=$(warning_of "$f")
  echo "# $f: $(state_of "$f"): $w"
  case "$f:$w" in
    *"${reason[$f]}"*) ok "$f is uploaded with the reason: ${reason[$f]}" ;;
    # 5 s of CPU (RLIMIT_CPU) and 10 s without progress race on a loaded machine: a spinning
    # helper on a shared core may be stopped by either, and either reason is right
    "spin.jpg:no progress for 10 s") ok "$f is uploaded with the reason: no progress for 10 s" ;;
    *) not_ok "$f: expected \"${reason[$f]}\" in \"$w\"" ;;
  esac
  check "$f is uploaded" test "$(state_of "$f")" = "uploaded"
done

# ---- 4: rerun after a touch: the bytes are those uploaded, no helper is needed --------------
touch_all
ingest "$work/upload.db"
check "the rerun exits 0 (status $status)" test "$status" = 0
check "the rerun restarts no helper" test "$(summary probe_restarts)" = 0
check "the rerun skips all $total files" test "$(summary files.skipped)" = "$total"

# ---- 5: --skip-probe-failed, and the poison-file record ----------------------------------------
ingest "$work/strict.db" --skip-probe-failed
check "with --skip-probe-failed the run reports failures (status $status)" test "$status" = 1
check "the $failing hostile files fail" test "$(summary files.failed)" = "$failing"
check "one helper restart per hostile file" test "$(summary probe_restarts)" = "$failing"

touch_all
ingest "$work/strict.db" --skip-probe-failed
check "the rerun reports the same failures (status $status)" test "$status" = 1
check "the rerun fails the $failing hostile files again" test "$(summary files.failed)" = "$failing"
check "the rerun gives no poison file to a helper (no restart)" \
  test "$(summary probe_restarts)" = 0
export_catalog "$work/strict.db"
for f in crash.jpg stall.jpg write-file.jpg; do
  w=$(warning_of "$f")
  case "$w" in
    *"${reason[$f]}"*) ok "$f keeps its recorded reason on the rerun" ;;
    *) not_ok "$f: expected \"${reason[$f]}\" in \"$w\" on the rerun" ;;
  esac
done
check "good.jpg is uploaded in the strict run" test "$(state_of good.jpg)" = "uploaded"

echo "1..$n"
exit 0
