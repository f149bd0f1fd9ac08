#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# build-and-run.sh — builds fuzz-probe-exif with clang and libFuzzer (+ ASan + UBSan) straight
# from the sources and runs it on a generated seed corpus plus the real samples.
#
#   tests/fuzz/build-and-run.sh [options] [-- extra libFuzzer arguments]
#
#   --build-dir DIR   where the binaries, seeds and the growing corpus live
#                     (default: _build_fuzz in the source root; reused between runs)
#   --seconds N       total fuzzing time (default 960)
#   --workers N       parallel fuzzing processes (default 2); with 1, a plain single-process
#                     run that stops at the first crash
#   --mode fork|jobs  with several workers: libFuzzer -fork (default; goes on after a crash or
#                     a timeout, merging the corpus as it goes) or -jobs (independent processes
#                     for the whole time, faster on this target, each stops at its first crash)
#   --samples DIR     real files to add to the seeds (default: ../shared/corpus/exif-samples
#                     next to the source root, when present)
#   --libexif-src DIR the libexif source tree the system library is built from
#                     (`apt-get source libexif`, with a deb-src line; default: BUILD_DIR/libexif-src
#                     when present). It is compiled into the fuzzer with the same sanitizers and
#                     coverage, so that libFuzzer explores libexif's own parsing too and ASan sees
#                     its memory errors; without it the system libexif is linked uninstrumented
#                     and only its outright crashes show.
#   --smoke           short CI run: single process, stop at the first crash, no real samples;
#                     prints TAP, and a TAP skip naming why when clang or libFuzzer is missing
#
# A long run (-fork) keeps going after a crash or timeout and collects every artifact in
# BUILD_DIR/artifacts; copy each one to tests/fuzz/regressions/ once it is understood and
# fixed, so that the meson test "fuzz-replay" keeps replaying it. The summary at the end gives
# the CPU time, executions, coverage and the artifacts found.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build_dir="$root/_build_fuzz"
seconds=960
workers=2
mode=fork
samples=""
libexif_src=""
smoke=0
extra=()

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --libexif-src) libexif_src=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "build-and-run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# everything below runs from the build directory: make the paths absolute
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
if [ -n "$libexif_src" ]; then libexif_src=$(cd "$libexif_src" && pwd); fi
if [ -n "$samples" ]; then samples=$(cd "$samples" && pwd) || { echo "build-and-run.sh: no folder $samples" >&2; exit 2; }; fi

skip() {
  # a smoke test that cannot run says so in TAP; a manual run says so and fails
  if [ "$smoke" = 1 ]; then
    echo "1..0 # SKIP $*"
    exit 0
  fi
  echo "build-and-run.sh: $*" >&2
  exit 1
}

say() {
  if [ "$smoke" = 1 ]; then echo "# $*"; else echo "== $*"; fi
}

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null 2>&1 || skip "$CC is not installed (Debian: clang)"
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
pkg-config --exists glib-2.0 libexif || skip "glib-2.0 or libexif development files are missing"

mkdir -p "$build_dir/include" "$build_dir/corpus" "$build_dir/artifacts"
cd "$build_dir"

# libFuzzer ships in libclang-rt-N-dev on Debian; a clang without it fails to link this
probe_src="$build_dir/check-libfuzzer.c"
printf 'int LLVMFuzzerTestOneInput (const unsigned char *d, unsigned long n) { return 0; }\n' \
  > "$probe_src"
"$CC" -fsanitize=fuzzer,address,undefined "$probe_src" -o "$build_dir/check-libfuzzer" \
  >/dev/null 2>&1 || skip "$CC cannot link -fsanitize=fuzzer,address,undefined" \
                          "(Debian: libclang-rt-$("$CC" -dumpversion | cut -d. -f1)-dev)"

# the sources include config.h; these are the only macros they use
cat > "$build_dir/include/config.h" <<'EOF'
#pragma once
#define GETTEXT_PACKAGE "sluice"
#define PACKAGE_NAME "sluice"
#define PACKAGE_VERSION "0.1.0"
#define LOCALEDIR "/usr/share/locale"
#define LIBEXECDIR "/usr/libexec"
EOF

sources=(
  "$root/src/probe/sluice-probe-exif.c"
  "$root/src/probe/sluice-probe-preview.c"
  "$root/src/engine/sluice-metadata.c"
  "$root/src/engine/sluice-sanitize.c"
  "$root/src/engine/sluice-error.c"
)
cflags=(
  -g -O1 -fno-omit-frame-pointer -std=gnu17 -D_GNU_SOURCE
  -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
  -I"$build_dir/include" -I"$root/src/engine" -I"$root/src/probe"
  $(pkg-config --cflags glib-2.0 libexif)
)
libs=($(pkg-config --libs glib-2.0 libexif) -lm)
# UBSan findings abort like ASan ones, so that libFuzzer keeps them as crashes
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all)

if [ -z "$libexif_src" ] && [ -d "$build_dir/libexif-src/libexif" ]; then
  libexif_src="$build_dir/libexif-src"
fi
libexif_objs=()
if [ -n "$libexif_src" ]; then
  # libexif's own config.h: no NLS, so its messages need no catalogue
  mkdir -p "$build_dir/libexif-include" "$build_dir/libexif-obj"
  printf '%s\n' '#pragma once' '#define GETTEXT_PACKAGE "libexif-12"' \
    '#define LOCALEDIR "/usr/share/locale"' '#define HAVE_LOCALTIME_R 1' \
    > "$build_dir/libexif-include/config.h"
  say "building an instrumented libexif from $libexif_src"
  n=0
  for src in "$libexif_src"/libexif/*.c "$libexif_src"/libexif/*/*.c; do
    n=$((n + 1))
    obj="$build_dir/libexif-obj/$n.o"
    "$CC" -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link "${sanitize[@]}" -w \
      -I"$build_dir/libexif-include" -I"$libexif_src" -I"$libexif_src/libexif" -c "$src" \
      -o "$obj"
    libexif_objs+=("$obj")
  done
  # our sources see the same headers, and nothing of the system library is linked
  cflags=(-I"$libexif_src" "${cflags[@]}")
  libs=($(pkg-config --libs glib-2.0) -lm)
fi

say "building fuzz-probe-exif with $("$CC" --version | head -n 1)"
"$CC" "${cflags[@]}" -fsanitize=fuzzer "${sanitize[@]}" "${sources[@]}" \
  "$here/fuzz-probe-exif.c" "${libexif_objs[@]}" "${libs[@]}" -o "$build_dir/fuzz-probe-exif"
"$CC" "${cflags[@]}" "${sanitize[@]}" -I"$root/tests/exif" "${sources[@]}" \
  "$here/fuzz-seeds.c" "${libexif_objs[@]}" "${libs[@]}" -o "$build_dir/fuzz-seeds"

say "generating seeds"
rm -rf "$build_dir/seeds"
ASAN_OPTIONS=detect_leaks=0 "$build_dir/fuzz-seeds" --output "$build_dir/seeds" >/dev/null

inputs=("$build_dir/corpus" "$build_dir/seeds")
if [ "$smoke" = 0 ]; then
  if [ -z "$samples" ] && [ -d "$root/../shared/corpus/exif-samples" ]; then
    samples="$root/../shared/corpus/exif-samples"
  fi
  if [ -n "$samples" ] && [ -d "$samples" ]; then
    # the first byte of an input picks the name hint (2 = "a.jpg", 3 = "scan.tif",
    # 6 = "photo.heic", 13 = no extension): the real files get one in front
    rm -rf "$build_dir/samples"
    mkdir -p "$build_dir/samples"
    n=0
    while IFS= read -r -d '' f; do
      case "${f,,}" in
        *.jpg|*.jpeg) hint='\x02' ;;
        *.tif|*.tiff) hint='\x03' ;;
        *.heic|*.heif) hint='\x06' ;;
        *.md) continue ;;
        *) hint='\x0d' ;;
      esac
      n=$((n + 1))
      { printf "$hint"; cat "$f"; } > "$build_dir/samples/sample-$n"
    done < <(find "$samples" -type f -print0 | sort -z)
    inputs+=("$build_dir/samples")
    say "$n real samples from $samples"
  fi
fi

common=(
  -dict="$here/probe-exif.dict"
  -max_len=1048576
  -timeout=10
  -rss_limit_mb=2560
  -report_slow_units=2
  -print_final_stats=1
  -artifact_prefix="$build_dir/artifacts/"
  -max_total_time="$seconds"
)
log="$build_dir/campaign-$(date +%Y%m%d-%H%M%S).log"

start_cpu() { awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat; }
ticks=$(getconf CLK_TCK)
before=$(start_cpu)
say "fuzzing for $seconds s with $workers worker(s); log: $log"
status=0
if [ "$workers" -gt 1 ] && [ "$mode" = jobs ]; then
  for ((job = 0; job < workers; job++)); do rm -f "$build_dir/fuzz-$job.log"; done
  "$build_dir/fuzz-probe-exif" "${common[@]}" -jobs="$workers" -workers="$workers" \
    "${extra[@]}" "${inputs[@]}" > "$log" 2>&1 || status=$?
  # each job logs to fuzz-N.log in the current directory; libFuzzer has copied their ends into
  # $log already, so the executions are counted from the job logs themselves
  jobs_execs=$(for ((job = 0; job < workers; job++)); do cat "$build_dir/fuzz-$job.log"; done |
               (grep -E '^stat::number_of_executed_units' || true) |
               awk '{ s += $2 } END { print s + 0 }')
elif [ "$workers" -gt 1 ]; then
  "$build_dir/fuzz-probe-exif" "${common[@]}" -fork="$workers" -ignore_crashes=1 \
    -ignore_timeouts=1 -ignore_ooms=1 "${extra[@]}" "${inputs[@]}" > "$log" 2>&1 || status=$?
else
  "$build_dir/fuzz-probe-exif" "${common[@]}" "${extra[@]}" "${inputs[@]}" > "$log" 2>&1 ||
    status=$?
fi
after=$(start_cpu)
cpu=$(( (after - before) / ticks ))

# the last status line libFuzzer printed, and its final stats
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
# (-fork prints no final stats of its own: its last "#N:" line counts every job's executions)
execs=${jobs_execs:-$( (grep -E '^stat::number_of_executed_units' "$log" || true) |
                      awk '{ s += $2 } END { print s + 0 }')}
if [ "$execs" = 0 ]; then
  execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
fi
artifacts=$(find "$build_dir/artifacts" -type f -newer "$probe_src" | sort || true)

say "CPU time: ${cpu} s (children of this script)"
say "executions: ${execs:-unknown}"
if [ "$mode" = jobs ] && [ "$workers" -gt 1 ]; then
  last=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | sort -t' ' -k1.2n | tail -n 1 || true)
fi
say "last status: ${last:-none}"
if [ -n "$artifacts" ]; then
  say "artifacts:"
  printf '%s\n' "$artifacts" | sed 's/^/    /'
else
  say "artifacts: none"
fi

if [ "$smoke" = 1 ]; then
  if [ "$status" = 0 ]; then
    echo "ok 1 - libFuzzer ran fuzz-probe-exif for $seconds s without a finding"
  else
    tail -n 60 "$log" | sed 's/^/# /'
    echo "not ok 1 - libFuzzer found a problem (exit $status); see $log"
  fi
  echo "1..1"
  exit 0
fi
exit "$status"
