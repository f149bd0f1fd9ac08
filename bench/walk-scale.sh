#!/usr/bin/env bash
# walk-scale.sh — does Sluice walk and look up a million files with flat memory? (issue 5, item 4)
#
#   bench/walk-scale.sh [--work DIR] [--rev REV | --sluice-cli PATH] [--files N]
#                       [--upload SLICE|none] [--keep-tree] [--keep-server] [--max-wait S]
#                       [--nice N]
#
# Makes a synthetic tree of N (default 1,000,000) tiny files (a few bytes, .jpg names, 1,000 per
# folder; bench/lib/make-tiny-tree.py, ~1 min) nested so that ROOT/tenth/hundredth, ROOT/tenth and ROOT
# hold 1 %, 10 % and all of them, then measures with bench/lib/measure.py (tree RSS sampled every
# 50 ms, CPU of the tree):
#   dry     `sluice-cli ingest SLICE s3://… --dry-run --catalog FRESH.db` on 10 k, 100 k and 1 M
#           files, page cache dropped first (cold) and again right after (warm). A dry run walks,
#           computes every key and looks every file up in the catalog; it reads no file and sends
#           nothing.
#   upload  a real ingest of the --upload slice (default 10 k) into a fresh bucket of the test S3
#           server (read, hash, probe, PUT, catalog every file), then the same command again
#           (every file unchanged: walk + catalog hits only), then a dry run against the
#           now-populated catalog. The bucket is left on the test server.
# Prints a table (also bench/out/walk-scale-STAMP.txt) and writes bench/out/walk-scale-STAMP.json.
# Before each run it waits up to --max-wait seconds (default 900) for a quiet machine, as
# run-bench.sh does (--nice N: run Sluice and the S3 daemons at that nice value, as run-bench.sh
# --nice). The tree is deleted at the end unless --keep-tree. Target: peak tree RSS < 150 MB throughout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
PROG=${0##*/}
WORK=/tmp/sluice-bench REV=HEAD SLUICE_CLI="" NFILES=1000000 UPLOAD="" KEEP_TREE=0 KEEP_SERVER=0 MAX_WAIT=900 NICE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --work) WORK=$2; shift 2 ;;
    --rev) REV=$2; shift 2 ;;
    --sluice-cli) SLUICE_CLI=$(realpath "$2"); shift 2 ;;
    --files) NFILES=$2; shift 2 ;;
    --upload) UPLOAD=$2; shift 2 ;;
    --keep-tree) KEEP_TREE=1; shift ;;
    --keep-server) KEEP_SERVER=1; shift ;;
    --max-wait) MAX_WAIT=$2; shift 2 ;;
    --nice) NICE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "$PROG: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$NFILES" -ge 100000 ] && [ $((NFILES % 100000)) = 0 ] || { echo "$PROG: --files must be a multiple of 100000" >&2; exit 2; }
human() { if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"; else echo "$(($1 / 1000))k"; fi; }
# the three slices (1 %, 10 %, all of the tree), named by their size: 10k 100k 1M for 1,000,000
LABELS=("$(human $((NFILES / 100)))" "$(human $((NFILES / 10)))" "$(human "$NFILES")")
[ -n "$UPLOAD" ] || UPLOAD=${LABELS[0]}
[ "$UPLOAD" = none ] || [[ " ${LABELS[*]} " == *" $UPLOAD "* ]] \
  || { echo "$PROG: --upload takes none or one of: ${LABELS[*]}" >&2; exit 2; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (drop_caches, cpuacct cgroup)"

STAMP=$(date +%Y%m%d-%H%M%S)
RUNDIR=$WORK/runs/walk-$STAMP OUTDIR=$HERE/out TREE=$WORK/tiny-tree-$NFILES
mkdir -p "$RUNDIR" "$OUTDIR"
MEASURE=(python3 "$HERE/lib/measure.py")
declare -A SLICE=(["${LABELS[0]}"]=$TREE/tenth/hundredth ["${LABELS[1]}"]=$TREE/tenth ["${LABELS[2]}"]=$TREE)
declare -A COUNT=(["${LABELS[0]}"]=$((NFILES / 100)) ["${LABELS[1]}"]=$((NFILES / 10)) ["${LABELS[2]}"]=$NFILES)

# ---- Sluice: the committed tree of REV, built in release mode (as run-bench.sh) ---------------
DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
if [ -z "$SLUICE_CLI" ]; then
  REVS=$(git -C "$REPO" rev-parse --short "$REV")
  SRC=$WORK/src-$REVS BUILD=$WORK/build-$REVS
  if [ ! -x "$BUILD/src/cli/sluice-cli" ] || [ ! -x "$BUILD/src/probe/sluice-probe" ]; then
    log "building Sluice $REVS (committed tree, release) in $BUILD"
    rm -rf "$SRC" "$BUILD"; mkdir -p "$SRC"
    git -C "$REPO" archive "$REVS" | tar -x -C "$SRC"
    meson setup "$BUILD" "$SRC" --buildtype=release >"$RUNDIR/meson-setup.log" 2>&1 || die "meson setup failed"
    ninja -C "$BUILD" src/cli/sluice-cli src/probe/sluice-probe >"$RUNDIR/ninja.log" 2>&1 || die "build failed"
  fi
  SLUICE_CLI=$BUILD/src/cli/sluice-cli S3SCRIPT=$SRC/tests/s3/sluice-test-s3.sh
  SLUICE_DESC="$REVS (committed tree; $DIRTY modified tracked files not measured)"
else
  S3SCRIPT=$REPO/tests/s3/sluice-test-s3.sh
  SLUICE_DESC="$SLUICE_CLI (given)"
fi
log "Sluice: $SLUICE_DESC"

# ---- tree ---------------------------------------------------------------------------------------
if [ ! -f "$TREE.done" ]; then
  rm -rf "$TREE"; mkdir -p "$TREE"
  log "writing $NFILES tiny files under $TREE"
  python3 "$HERE/lib/make-tiny-tree.py" "$TREE" "$NFILES" | tee "$RUNDIR/tree.log" >&2
fi
cleanup() {
  set +e
  if [ "$UPLOAD" != none ] && [ "$KEEP_SERVER" = 0 ] && [ -d "$WORK/s3" ]; then
    log "stopping the S3 server"; bash "$S3SCRIPT" stop "$WORK/s3" >/dev/null 2>&1
  fi
  if [ "$KEEP_TREE" = 0 ] && [ -d "$TREE" ]; then
    log "deleting $TREE"; rm -rf "$TREE" "$TREE.done"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_REGION=default
SERVER_PIDS="" ENDPOINT=http://127.0.0.1:9   # a dry run sends nothing
if [ "$UPLOAD" != none ]; then
  bash "$S3SCRIPT" start "$WORK/s3" >"$RUNDIR/s3-start.log" 2>&1 \
    || { sleep 3; bash "$S3SCRIPT" start "$WORK/s3" >>"$RUNDIR/s3-start.log" 2>&1; } \
    || die "S3 server did not start: $RUNDIR/s3-start.log"
  # shellcheck disable=SC1091
  . "$WORK/s3/env"
  ENDPOINT=$SLUICE_TEST_S3_ENDPOINT
  SERVER_PIDS=$(cat "$WORK"/s3/run/{mon,osd,rgw}.pid | paste -sd,)
  if [ "$NICE" != 0 ]; then
    for p in ${SERVER_PIDS//,/ }; do
      for t in /proc/"$p"/task/*; do renice -n "$NICE" -p "${t##*/}" >/dev/null 2>&1 || true; done
    done
  fi
fi


# measure NAME DROP(0|1) -- sluice args...
measure() {
  local name=$1 drop=$2; shift 3
  local opt=() pre=(); [ "$drop" = 1 ] && opt=(--drop-caches)
  [ "$NICE" = 0 ] || pre=(nice -n "$NICE")
  python3 "$HERE/lib/wait-idle.py" --exclude-pids "$SERVER_PIDS" --timeout "$MAX_WAIT" --max-busy 0.3 \
    || log "  the machine is busy; measuring anyway (see other_cpu_s)"
  log "$name"
  "${MEASURE[@]}" --out "$RUNDIR/$name.json" --stdout "$RUNDIR/$name.out" \
    ${SERVER_PIDS:+--server-pids "$SERVER_PIDS"} "${opt[@]}" --label "$name" -- \
    "${pre[@]}" "$SLUICE_CLI" "$@" --json || log "  exit $?"
}

for s in "${LABELS[@]}"; do
  cat=$RUNDIR/dry-$s.db
  measure "dry-$s-cold" 1 -- ingest "${SLICE[$s]}" "s3://bench-walk/$s" --endpoint "$ENDPOINT" \
    --catalog "$cat" --dry-run
  measure "dry-$s-warm" 0 -- ingest "${SLICE[$s]}" "s3://bench-walk/$s" --endpoint "$ENDPOINT" \
    --catalog "$cat" --dry-run
  rm -f "$cat"*
done

if [ "$UPLOAD" != none ]; then
  bucket=bench-walk-$UPLOAD-$STAMP; bucket=${bucket,,}
  cat=$RUNDIR/upload-$UPLOAD.db
  "$SLUICE_CLI" make-bucket "s3://$bucket" --endpoint "$ENDPOINT" >/dev/null || die "make-bucket failed"
  measure "upload-$UPLOAD" 1 -- ingest "${SLICE[$UPLOAD]}" "s3://$bucket/t" --endpoint "$ENDPOINT" --catalog "$cat"
  measure "rerun-$UPLOAD" 1 -- ingest "${SLICE[$UPLOAD]}" "s3://$bucket/t" --endpoint "$ENDPOINT" --catalog "$cat"
  measure "dry-populated-$UPLOAD" 0 -- ingest "${SLICE[$UPLOAD]}" "s3://$bucket/t" --endpoint "$ENDPOINT" \
    --catalog "$cat" --dry-run
  ls -l "$cat" >"$RUNDIR/catalog-size.txt" 2>&1 || true
  python3 - "$cat" "$RUNDIR/catalog.json" <<'PY'
import json, os, sys
db = sys.argv[1]
json.dump({"catalog_bytes": sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))},
          open(sys.argv[2], "w"))
PY
  rm -f "$cat"*
  # the bucket is left on the test server: tiny objects take little space, and deleting 100 k
  # of them costs the server as much as writing them (delete WORK/s3 to start afresh)
fi

python3 - "$RUNDIR" "$OUTDIR/walk-scale-$STAMP.json" "$SLUICE_DESC" "$NFILES" "$UPLOAD" "${LABELS[@]}" <<'PY' | tee "$OUTDIR/walk-scale-$STAMP.txt"
import glob, json, os, sys
rundir, out, desc, nfiles, upload = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
labels = sys.argv[6:9]
count = dict(zip(labels, (nfiles // 100, nfiles // 10, nfiles)))
rows, full = [], {"sluice": desc, "files": nfiles, "runs": {}}
for p in sorted(glob.glob(os.path.join(rundir, "*.json"))):
    name = os.path.basename(p)[:-5]
    if name == "catalog":
        full["catalog"] = json.load(open(p)); continue
    r = json.load(open(p))
    try:
        summ = json.load(open(p[:-5] + ".out"))
    except (OSError, ValueError):
        summ = {}
    r["sluice_summary"] = summ
    full["runs"][name] = r
order = []
for s in labels:
    order += ["dry-%s-cold" % s, "dry-%s-warm" % s]
order += ["upload-" + upload, "rerun-" + upload, "dry-populated-" + upload]
print("walk-scale — Sluice %s; %d tiny files in folders of 1,000" % (desc, nfiles))
print("%-22s %9s %8s %10s %7s %9s %8s %8s %9s %6s %s" % ("run", "files", "wall s", "files/s", "CPU s",
      "µs CPU/f", "RSS MB", "PSS MB", "srv CPU", "other", "sluice says"))
worst = 0
for name in order:
    r = full["runs"].get(name)
    if not r:
        continue
    s = name.rsplit("-", 1)[-1] if not name.endswith(("cold", "warm")) else name.split("-")[1]
    n = count.get(s, 0)
    f = r["sluice_summary"].get("files", {})
    cpu = r.get("time_cpu_s") or 0
    worst = max(worst, r.get("rss_tree_peak_mb") or 0)
    says = "found %s read %s uploaded %s skipped %s failed %s exit %s" % (
        f.get("found"), f.get("read"), f.get("uploaded"), f.get("skipped"), f.get("failed"),
        r.get("exit_code"))
    print("%-22s %9d %8.2f %10.0f %7.2f %9.1f %8.1f %8.1f %9s %6s %s" % (
        name, n, r["wall_s"], n / r["wall_s"], cpu, cpu / n * 1e6, r.get("rss_tree_peak_mb") or 0,
        r.get("pss_tree_peak_mb") or 0, r.get("server_cpu_s", "-"), r.get("other_cpu_s"), says))
if "catalog" in full:
    print("catalog after the %s upload: %.1f MB" % (upload, full["catalog"]["catalog_bytes"] / 1e6))
print("peak tree RSS over all runs: %.1f MB (target < 150 MB: %s)" % (worst, "ok" if worst < 150 else "MISS"))
full["peak_rss_mb"] = worst
json.dump(full, open(out, "w"), indent=1)
PY
log "raw numbers: $OUTDIR/walk-scale-$STAMP.json"
