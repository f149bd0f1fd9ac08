#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Frame times of the metadata browser scrolling a catalog of ROWS rows (default 1,000,000),
# made by bench/browse/sluice-catalog-gen like browse-bench.sh, under Xvfb with the cairo
# renderer (what the UI tests use): smooth wheel scrolling, random jumps, a scrollbar drag.
#
#   bench/browse-scroll.sh [ROWS] [WORKDIR]       (build first: ninja -C _build)
#
# Each sort's figures follow the machine's 1-minute load average: on a shared machine compare
# builds run back to back in the same period (BUILD=DIR picks the build), never across hours.
# bench/README.md says what the figures were before and after issue 7.
set -eu
ROWS=${1:-1000000}
WORK=${2:-${TMPDIR:-/tmp}/sluice-browse-bench}
BUILD=${BUILD:-$(dirname "$0")/../_build}
GEN=$BUILD/bench/browse/sluice-catalog-gen
SCROLL=$BUILD/bench/browse/sluice-browse-scroll
mkdir -p "$WORK"
CAT=$WORK/catalog-$ROWS.db
if [ ! -e "$CAT" ]; then
  echo "== making $CAT ($ROWS rows)"
  "$GEN" --rows "$ROWS" --output "$CAT"
fi
export GDK_BACKEND=x11 GSK_RENDERER=${GSK_RENDERER:-cairo} NO_AT_BRIDGE=1 GTK_A11Y=none
for sort in ingest size; do
  echo "== scrolling $CAT, sorted by $sort (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  xvfb-run -a -s "-screen 0 1280x800x24" "$SCROLL" "$CAT" --sort "$sort"
done
