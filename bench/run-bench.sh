#!/usr/bin/env bash
# run-bench.sh — Sluice vs rclone on the same machine and the same S3 server (issue 5).
#
#   bench/run-bench.sh [--quick] [--corpus a|b|c|all] [--runs N] [--work DIR] [--rev REV]
#                      [--sluice-cli PATH] [--no-countfs] [--keep-server] [--keep-corpora]
#
# Corpora (made once, cached under WORK/corpora; the base-image pool of make-corpus.sh is cached
# in ~/.cache/make-corpus as usual):
#   a  make-corpus.sh 600 DIR 7             600 camera-like JPEGs of 1-4 MB (~1.33 GB)
#   b  make-small-corpus.sh over (a)        3,000 small JPEGs of 20-200 KB (~240 MB)
#   c  make-corpus.sh --big 40 DIR 11       two 300 MiB videos (multipart) plus 40 photos
# The generators and countfs are taken from ../shared/tools when present, else from the copies
# in bench/tools/.
#
# What runs, per corpus (page cache dropped before every run, every run into a fresh bucket):
#   timed    N runs each of `sluice-cli ingest CORPUS s3://bench-sluice-…/c --catalog FRESH.db`
#            and `rclone copy --transfers 16 --checkers 16 CORPUS s3:bench-rclone-…/c`,
#            alternating (odd runs Sluice first, even runs rclone first). rclone keeps its
#            defaults: it computes MD5 and checks it; nothing is disabled.
#   peer     1 run of `rclone copy … && exiftool -json -r CORPUS >/dev/null` (rclone does not
#            extract metadata; exiftool is what a user adds for it)
#   countfs  1 run of each tool through countfs (--cache none) to count the bytes the source
#            serves (timings not used), and 1 Sluice run through countfs --latency-ms 2, whose
#            wall time is compared with the countfs run without latency (with --runs 2 or more,
#            two such pairs, alternating, and their medians).
# Each run is measured by bench/lib/measure.py (wall, user+sys of the whole tree via
# /usr/bin/time + a cpuacct cgroup cross-check, tree RSS/PSS sampled every 50 ms, server CPU
# from /proc/PID/stat of ceph-mon, ceph-osd and radosgw). Objects are listed after each run to
# check the count, then deleted (the test server's disk is 20 GiB).
#
# Sluice itself: by default the committed revision REV (default HEAD) of this repository is
# exported (git archive, so uncommitted changes are not measured) to WORK/src-REV and built
# with --buildtype=release in WORK/build-REV. --sluice-cli PATH uses an existing build instead
# (its sluice-probe is found beside it as usual, or via SLUICE_PROBE_PATH).
#
# Options:
#   --quick            --runs 1 and, unless --corpus is given, corpora a and b only
#   --corpus X         a, b, c or all (default all); may be repeated
#   --runs N           timed runs per tool and corpus (default 3)
#   --work DIR         work dir (default /tmp/sluice-bench): corpora, build, server, run data
#   --no-countfs       skip the countfs runs (bytes served, latency)
#   --keep-server      leave the test S3 server running at the end
#   --keep-corpora     (default) keep WORK/corpora; --delete-corpora removes them at the end
#   --max-wait S       before each run, wait up to S seconds (default 900; 0: do not wait) until
#                      the machine is quiet (< --max-busy cores busy besides the S3 server): on 2
#                      shared cores a build or fuzzer running meanwhile skews the numbers. Each run
#                      records other_cpu_s (the machine's busy time minus client, server, countfs).
#   --max-busy C       what "quiet" means, in cores (default 0.3)
#   --parts LIST       which measurements to make, comma-separated: timed, peer, countfs
#                      (default all three)
#   --nice N           run the measured commands, the S3 server's daemons and countfs at this
#                      nice value (e.g. -5 on a machine that never gets quiet; default 0: as is).
#                      Both tools get the same treatment; other programs then disturb less.
#   --tls              both tools talk HTTPS to the server: stunnel in front of radosgw, with a
#                      throw-away CA that Sluice (--ca-file) and rclone (--ca-cert) are given
#                      with the system's certificates, as a real S3 endpoint would be reached.
#                      stunnel's CPU counts as the server's.
#   --retry-disturbed K  measure a run again (up to K times, default 2) when other programs used
#                      more than --max-busy cores on average (+1 CPU-s) during it; runs that stay
#                      disturbed are kept and flagged in the report
#
# Output: a table on stdout (also bench/out/bench-STAMP.txt) and all raw numbers in
# bench/out/bench-STAMP.json; per-run files stay in WORK/runs/STAMP.
# Needs: root (drop_caches, countfs, cgroup), rclone, exiftool (libimage-exiftool-perl),
# imagemagick, python3, time (/usr/bin/time), the Ceph packages of tests/s3/sluice-test-s3.sh,
# meson + ninja + the build dependencies of Sluice; with --tls, stunnel4 and openssl.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
PROG=${0##*/}

WORK=/tmp/sluice-bench RUNS=3 RUNS_SET=0 CORPORA=() REV=HEAD SLUICE_CLI="" COUNTFS=1
KEEP_SERVER=0 DELETE_CORPORA=0 QUICK=0 TLS=0 MAX_WAIT=900 RETRY_DISTURBED=2 MAX_BUSY=0.3 NICE=0 PARTS=timed,peer,countfs
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --corpus) case "$2" in a|b|c) CORPORA+=("$2") ;; all) CORPORA+=(a b c) ;;
                *) echo "$PROG: --corpus a|b|c|all" >&2; exit 2 ;; esac; shift 2 ;;
    --runs) RUNS=$2; RUNS_SET=1; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --rev) REV=$2; shift 2 ;;
    --sluice-cli) SLUICE_CLI=$(realpath "$2"); shift 2 ;;
    --no-countfs) COUNTFS=0; shift ;;
    --keep-server) KEEP_SERVER=1; shift ;;
    --keep-corpora) DELETE_CORPORA=0; shift ;;
    --delete-corpora) DELETE_CORPORA=1; shift ;;
    --max-wait) MAX_WAIT=$2; shift 2 ;;
    --retry-disturbed) RETRY_DISTURBED=$2; shift 2 ;;
    --max-busy) MAX_BUSY=$2; shift 2 ;;
    --nice) NICE=$2; shift 2 ;;
    --parts) PARTS=$2; shift 2 ;;
    --tls) TLS=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "$PROG: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  [ "$RUNS_SET" = 1 ] || RUNS=1
  [ ${#CORPORA[@]} -gt 0 ] || CORPORA=(a b)
fi
[ ${#CORPORA[@]} -gt 0 ] || CORPORA=(a b c)
# unique, in a-b-c order
CORPORA=($(printf '%s\n' "${CORPORA[@]}" | sort -u))

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (drop_caches, countfs mounts, cpuacct cgroup)"
# each tool with the Debian package that has it; all that are missing are named at once
missing=()
for tp in rclone:rclone exiftool:libimage-exiftool-perl /usr/bin/convert:imagemagick \
          python3:python3 /usr/bin/time:time meson:meson ninja:ninja-build git:git; do
  command -v "${tp%%:*}" >/dev/null || missing+=("${tp#*:}")
done
[ "$TLS" = 0 ] || for tp in stunnel4:stunnel4 openssl:openssl; do
  command -v "${tp%%:*}" >/dev/null || missing+=("${tp#*:}")
done
[ ${#missing[@]} = 0 ] || die "missing tools: apt-get install ${missing[*]}"

# ---- tools: ../shared/tools when present, else the project's copies -------------------------
SHARED=$(realpath -m "$REPO/../shared/tools")
tool() {
  if [ -x "$SHARED/$1" ]; then echo "$SHARED/$1"
  elif [ -x "$HERE/tools/$1" ]; then echo "$HERE/tools/$1"
  else die "$1 not found in $SHARED nor $HERE/tools"; fi
}
MAKE_CORPUS=$(tool make-corpus.sh)
MAKE_SMALL=$(tool make-small-corpus.sh)
COUNTFS_BIN=$(tool countfs)
[ -d "$SHARED" ] || log "note: $SHARED is absent; using the copies in bench/tools"
MEASURE=(python3 "$HERE/lib/measure.py")

STAMP=$(date +%Y%m%d-%H%M%S)
RUNDIR=$WORK/runs/$STAMP
OUTDIR=$HERE/out
mkdir -p "$WORK/corpora" "$RUNDIR" "$OUTDIR"

# ---- Sluice build ---------------------------------------------------------------------------
DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
if [ -z "$SLUICE_CLI" ]; then
  REVS=$(git -C "$REPO" rev-parse --short "$REV")
  SRC=$WORK/src-$REVS BUILD=$WORK/build-$REVS
  if [ ! -x "$BUILD/src/cli/sluice-cli" ] || [ ! -x "$BUILD/src/probe/sluice-probe" ]; then
    log "building Sluice $REVS (committed tree, release) in $BUILD"
    rm -rf "$SRC" "$BUILD"; mkdir -p "$SRC"
    git -C "$REPO" archive "$REVS" | tar -x -C "$SRC"
    meson setup "$BUILD" "$SRC" --buildtype=release >"$RUNDIR/meson-setup.log" 2>&1 \
      || die "meson setup failed, see $RUNDIR/meson-setup.log"
    ninja -C "$BUILD" src/cli/sluice-cli src/probe/sluice-probe >"$RUNDIR/ninja.log" 2>&1 \
      || die "build failed, see $RUNDIR/ninja.log"
  fi
  SLUICE_CLI=$BUILD/src/cli/sluice-cli
  S3SCRIPT=$SRC/tests/s3/sluice-test-s3.sh
  SLUICE_DESC="$REVS (committed tree; working tree had $DIRTY modified tracked files, not measured)"
else
  REVS="external"
  S3SCRIPT=$REPO/tests/s3/sluice-test-s3.sh
  SLUICE_DESC="$SLUICE_CLI (given; repo HEAD $(git -C "$REPO" rev-parse --short HEAD), $DIRTY modified tracked files)"
fi
[ -x "$SLUICE_CLI" ] || die "no sluice-cli at $SLUICE_CLI"
log "Sluice: $SLUICE_DESC"

# ---- corpora --------------------------------------------------------------------------------
corpus_dir() { echo "$WORK/corpora/$1"; }
make_corpus() {
  local c=$1 d; d=$(corpus_dir "$c")
  [ -f "$d.done" ] && return 0
  rm -rf "$d" "$d.manifest.csv"
  log "making corpus $c in $d"
  case $c in
    a) "$MAKE_CORPUS" 600 "$d" 7 ;;
    b) make_corpus a; "$MAKE_SMALL" "$(corpus_dir a)" "$d" ;;
    c) "$MAKE_CORPUS" --big 40 "$d" 11 ;;
  esac >"$WORK/corpora/$c.log" 2>&1 || die "making corpus $c failed, see $WORK/corpora/$c.log"
  touch "$d.done"
}
for c in "${CORPORA[@]}"; do make_corpus "$c"; done

# ---- S3 server ------------------------------------------------------------------------------
S3DIR=$WORK/s3
countfs_cleanup() {
  local m
  for m in "$WORK"/mnt/*; do
    [ -d "$m" ] && mountpoint -q "$m" && umount "$m" 2>/dev/null || true
  done
}
STUNNEL_PID=""
cleanup() {
  set +e
  countfs_cleanup
  [ -z "$STUNNEL_PID" ] || kill "$STUNNEL_PID" 2>/dev/null
  if [ "$KEEP_SERVER" = 0 ] && [ -d "$S3DIR" ]; then
    log "stopping the S3 server"; bash "$S3SCRIPT" stop "$S3DIR" >/dev/null 2>&1
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "starting the S3 server in $S3DIR"
# (one retry: under heavy load a start has failed once with "mon exited during start")
bash "$S3SCRIPT" start "$S3DIR" >"$RUNDIR/s3-start.log" 2>&1 \
  || { sleep 3; bash "$S3SCRIPT" start "$S3DIR" >>"$RUNDIR/s3-start.log" 2>&1; } \
  || die "S3 server did not start: $RUNDIR/s3-start.log"
# shellcheck disable=SC1091
. "$S3DIR/env"
ENDPOINT=$SLUICE_TEST_S3_ENDPOINT
SERVER_PIDS=$(cat "$S3DIR"/run/mon.pid "$S3DIR"/run/osd.pid "$S3DIR"/run/rgw.pid | paste -sd,)
SLUICE_TLS=()
if [ "$TLS" = 1 ]; then
  # tests/s3/https-front.sh, as the app's TLS test uses it: a CA of this run, stunnel
  # forwarding to radosgw
  # shellcheck source=../tests/s3/https-front.sh
  . "$REPO/tests/s3/https-front.sh"
  mkdir -p "$RUNDIR/tls"
  https_front_start "$RUNDIR/tls" "$ENDPOINT" || die "no HTTPS endpoint (see above)"
  STUNNEL_PID=$HTTPS_FRONT_PID
  ENDPOINT=$HTTPS_FRONT_ENDPOINT
  SERVER_PIDS=$SERVER_PIDS,$STUNNEL_PID
  # both tools trust the system's certificates and the run's CA, as a real run reads the
  # system's bundle: how often a tool reads it is part of its cost (stop 26: per connection)
  ca=$RUNDIR/tls/trusted.pem
  cat /etc/ssl/certs/ca-certificates.crt "$HTTPS_FRONT_CA" >"$ca" 2>/dev/null || cp "$HTTPS_FRONT_CA" "$ca"
  SLUICE_TLS=(--ca-file "$ca")
  export RCLONE_CA_CERT=$ca
fi
log "S3 at $ENDPOINT, daemons $SERVER_PIDS"
renice_tree() {   # every thread of each PID (setpriority works per thread on Linux)
  local p t
  for p in ${1//,/ }; do
    for t in /proc/"$p"/task/*; do renice -n "$NICE" -p "${t##*/}" >/dev/null 2>&1 || true; done
  done
}
[ "$NICE" = 0 ] || renice_tree "$SERVER_PIDS"

# A clean environment for the clients: AWS_CA_BUNDLE (set on some machines) makes rclone 1.60
# fail with "LoadCustomCABundleError ... unsupported transport" even for http endpoints.
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_REGION=default
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_BENCHS3_TYPE=s3 RCLONE_CONFIG_BENCHS3_PROVIDER=Ceph
export RCLONE_CONFIG_BENCHS3_ENDPOINT=$ENDPOINT RCLONE_CONFIG_BENCHS3_REGION=default
export RCLONE_CONFIG_BENCHS3_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
export RCLONE_CONFIG_BENCHS3_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_BENCHS3_FORCE_PATH_STYLE=true
RCLONE_COPY=(rclone copy --transfers 16 --checkers 16)

gc_server() {   # let radosgw free deleted tails now rather than during a later run
  timeout 120 radosgw-admin -c "$S3DIR/ceph.conf" gc process --include-all >/dev/null 2>&1 || true
}

# ---- one measured run -------------------------------------------------------------------------
# run_tool KIND TOOL CORPUS RUN SRC_PATH  → $RUNDIR/CORPUS/KIND-TOOL-RUN.json
# A run during which other programs used the CPU (other_cpu_s > MAX_BUSY cores on average + 1 s) is
# kept as …json.disturbed-K and done again, up to --retry-disturbed times.
measure_tool() {   # measure_tool KIND TOOL CORPUS RUN SRC BUCKET RES OUT
  local kind=$1 t=$2 c=$3 i=$4 src=$5 bucket=$6 res=$7 out=$8
  local m=("${MEASURE[@]}" --out "$res" --server-pids "$SERVER_PIDS" ${CFS_PID:+--aux-pids "$CFS_PID"}
           --drop-caches --stdout "$out" --label "$kind $t $c $i" --)
  [ "$NICE" = 0 ] || m+=(nice -n "$NICE")
  case $t in
    sluice)
      "${m[@]}" "$SLUICE_CLI" ingest "$src" "s3://$bucket/$c" --endpoint "$ENDPOINT" \
        "${SLUICE_TLS[@]}" --catalog "$RUNDIR/$c/$kind-$t-$i.db" --json || log "  sluice-cli exited $?" ;;
    rclone)
      "${m[@]}" "${RCLONE_COPY[@]}" "$src" "benchs3:$bucket/$c" || log "  rclone exited $?" ;;
    rclone+exiftool)
      "${m[@]}" bash -c 'set -e; "${@:3}" "$1" "benchs3:$2"; date +"exiftool_start %s.%N"
                 exiftool -json -r "$1" >/dev/null 2>/dev/null; date +"exiftool_end %s.%N"' _ \
        "$src" "$bucket/$c" "${RCLONE_COPY[@]}" || log "  rclone+exiftool exited $?" ;;
  esac
}
drop_bucket() {
  rm -f "$RUNDIR/$1/$2.db" "$RUNDIR/$1/$2.db-wal" "$RUNDIR/$1/$2.db-shm"
  rclone purge --checkers 32 "benchs3:$3" >/dev/null 2>&1 || log "  purge of $3 failed"
}
run_tool() {
  local kind=$1 t=$2 c=$3 i=$4 src=$5 bucket res out files attempt=0 other
  bucket="bench-$t-$c-$kind-$i-$STAMP"; bucket=${bucket//+/-}; bucket=${bucket,,}
  res=$RUNDIR/$c/$kind-$t-$i.json out=$RUNDIR/$c/$kind-$t-$i.out
  while :; do
    "$SLUICE_CLI" make-bucket "s3://$bucket" --endpoint "$ENDPOINT" "${SLUICE_TLS[@]}" >/dev/null \
      || die "make-bucket $bucket failed"
    if [ "$MAX_WAIT" -gt 0 ]; then
      python3 "$HERE/lib/wait-idle.py" --exclude-pids "$SERVER_PIDS" --timeout "$MAX_WAIT" --max-busy "$MAX_BUSY" \
        || log "  the machine is busy; measuring anyway (see other_cpu_s)"
    fi
    [ -n "$CFS_PID" ] && { kill -USR2 "$CFS_PID"; sleep 0.2; }
    log "corpus $c: $kind $t run $i$([ "$attempt" = 0 ] || echo " (attempt $((attempt + 1)))")"
    measure_tool "$kind" "$t" "$c" "$i" "$src" "$bucket" "$res" "$out"
    other=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
o=d.get("other_cpu_s") or 0; print("%.1f" % o if o > float(sys.argv[2]) * d["wall_s"] + 1 else "")' "$res" "$MAX_BUSY")
    if [ -n "$other" ] && [ "$attempt" -lt "$RETRY_DISTURBED" ]; then
      attempt=$((attempt + 1))
      log "  disturbed: other programs used $other CPU-s meanwhile; measuring again"
      mv "$res" "$res.disturbed-$attempt"
      drop_bucket "$c" "$kind-$t-$i" "$bucket"
      continue
    fi
    [ -n "$other" ] && log "  disturbed ($other CPU-s of other programs); kept, flagged in the report"
    break
  done
  # check what arrived, then free the server's disk
  files=$(rclone size --json "benchs3:$bucket" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])' || echo -1)
  python3 - "$res" "$files" "$bucket" "$RUNDIR/$c/$kind-$t-$i.db" "$attempt" <<'PY'
import json, os, sys
res, n, bucket, db, attempts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
d = json.load(open(res))
d["objects_in_bucket"] = n
d["bucket"] = bucket
d["disturbed_attempts_discarded"] = attempts
if os.path.exists(db):
    d["catalog_bytes"] = os.path.getsize(db)
json.dump(d, open(res, "w"), indent=1)
PY
  drop_bucket "$c" "$kind-$t-$i" "$bucket"
}

# ---- countfs ----------------------------------------------------------------------------------
CFS_PID=""
cfs_mount() {   # cfs_mount SRC MNT STATS [countfs options]
  local src=$1 mnt=$2 stats=$3; shift 3
  mkdir -p "$mnt"
  mountpoint -q "$mnt" && umount "$mnt"
  "$COUNTFS_BIN" "$src" "$mnt" --stats "$stats" --pidfile "$stats.pid" --cache none \
    --log "$stats.log" "$@" 2>>"$stats.log" || die "countfs mount failed ($stats.log)"
  CFS_PID=$(cat "$stats.pid")
  [ "$NICE" = 0 ] || renice_tree "$CFS_PID"
}
cfs_snapshot() {   # cfs_snapshot STATS DEST: write the stats now, copy them to DEST
  local stats=$1 dest=$2 k
  rm -f "$stats"
  kill -USR1 "$CFS_PID"
  for k in $(seq 200); do [ -s "$stats" ] && break; sleep 0.05; done
  [ -s "$stats" ] || die "countfs wrote no stats to $stats"
  cp "$stats" "$dest"
}
cfs_umount() {
  local mnt=$1 k
  umount "$mnt" || umount -l "$mnt"
  for k in $(seq 100); do kill -0 "$CFS_PID" 2>/dev/null || break; sleep 0.1; done
  CFS_PID=""
}

# ---- per corpus -------------------------------------------------------------------------------
for c in "${CORPORA[@]}"; do
  d=$(corpus_dir "$c")
  mkdir -p "$RUNDIR/$c"
  python3 - "$d" "$RUNDIR/$c/corpus.json" "$c" <<'PY'
import json, os, sys
root, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
n = b = 0
exts = {}
for dp, dn, fn in os.walk(root):
    for f in fn:
        n += 1
        b += os.lstat(os.path.join(dp, f)).st_size
        e = os.path.splitext(f)[1].lower()
        exts[e] = exts.get(e, 0) + 1
json.dump({"corpus": name, "path": root, "files": n, "bytes": b, "extensions": exts},
          open(out, "w"), indent=1)
PY
  log "corpus $c: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["files"], "files,", round(d["bytes"]/1e6,1), "MB")' "$RUNDIR/$c/corpus.json")"
  gc_server
  if [[ ,$PARTS, == *,timed,* ]]; then
    for i in $(seq "$RUNS"); do
      if [ $((i % 2)) = 1 ]; then order=(sluice rclone); else order=(rclone sluice); fi
      for t in "${order[@]}"; do run_tool timed "$t" "$c" "$i" "$d"; done
    done
  fi
  [[ ,$PARTS, != *,peer,* ]] || run_tool peer rclone+exiftool "$c" 1 "$d"
  if [ "$COUNTFS" = 1 ] && [[ ,$PARTS, == *,countfs,* ]]; then
    mnt=$WORK/mnt/$c stats=$RUNDIR/$c/countfs-live.json
    # with --runs 2 or more, the latency ratio is a median of two pairs: one run of each
    # varies by 10-20 % here (a single pair once read x1.25 where the medians said x1.06)
    nlat=$(( RUNS >= 2 ? 2 : 1 ))
    for i in $(seq "$nlat"); do
      cfs_mount "$d" "$mnt" "$stats"
      if [ "$i" = 1 ]; then tools=(sluice rclone); else tools=(sluice); fi
      for t in "${tools[@]}"; do
        run_tool countfs "$t" "$c" "$i" "$mnt"
        cfs_snapshot "$stats" "$RUNDIR/$c/countfs-$t-$i.stats.json"
      done
      cfs_umount "$mnt"
      cfs_mount "$d" "$mnt" "$stats" --latency-ms 2
      run_tool countfs-lat2 sluice "$c" "$i" "$mnt"
      cfs_snapshot "$stats" "$RUNDIR/$c/countfs-lat2-sluice-$i.stats.json"
      cfs_umount "$mnt"
    done
  fi
  gc_server
done

# ---- report -----------------------------------------------------------------------------------
python3 - "$RUNDIR/meta.json" <<PY
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
json.dump({"stamp": "$STAMP", "sluice_rev": "$REVS", "sluice": "$SLUICE_DESC",
           "sluice_cli": "$SLUICE_CLI", "runs": $RUNS, "max_busy": $MAX_BUSY, "nice": $NICE, "parts": "$PARTS", "corpora": "${CORPORA[*]}".split(),
           "countfs": $COUNTFS == 1, "tls": $TLS == 1, "host": platform.node(), "kernel": platform.release(),
           "cpu": cpu, "ncpu": os.cpu_count(),
           "rclone": sh("rclone version | head -1"), "exiftool": sh("exiftool -ver"),
           "ceph": sh("ceph --version"), "endpoint": "$ENDPOINT",
           "make_corpus": "$MAKE_CORPUS", "countfs_bin": "$COUNTFS_BIN"},
          open(sys.argv[1], "w"), indent=1)
PY
python3 "$HERE/lib/report.py" "$RUNDIR" --json "$OUTDIR/bench-$STAMP.json" | tee "$OUTDIR/bench-$STAMP.txt"
log "raw numbers: $OUTDIR/bench-$STAMP.json; per-run files: $RUNDIR"

if [ "$DELETE_CORPORA" = 1 ]; then
  for c in "${CORPORA[@]}"; do rm -rf "$(corpus_dir "$c")" "$(corpus_dir "$c").done" "$(corpus_dir "$c").manifest.csv"; done
fi
