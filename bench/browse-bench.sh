#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The metadata browser's benchmark: makes a realistic catalog of ROWS rows (default 1,000,000)
# with bench/browse/sluice-catalog-gen, then times what the browser does against it (open,
# sorts, filters, search, deep pages, export) with sluice-browse-bench. Interactive actions
# should stay under 100 ms; the lines over it say so.
#
#   bench/browse-bench.sh [ROWS] [WORKDIR]       (build first: ninja -C _build)
#
# Also prints what ingesting costs the catalog per row with and without schema 4's browsing
# additions (on 100,000 rows; the machine's other load shows in these figures).
set -eu
ROWS=${1:-1000000}
WORK=${2:-${TMPDIR:-/tmp}/sluice-browse-bench}
BUILD=${BUILD:-$(dirname "$0")/../_build}
GEN=$BUILD/bench/browse/sluice-catalog-gen
BENCH=$BUILD/bench/browse/sluice-browse-bench
mkdir -p "$WORK"
CAT=$WORK/catalog-$ROWS.db
if [ ! -e "$CAT" ]; then
  echo "== making $CAT ($ROWS rows)"
  "$GEN" --rows "$ROWS" --output "$CAT"
fi
echo "== browsing $CAT"
"$BENCH" "$CAT"
if [ "${SKIP_INGEST_COST:-}" = "" ]; then
  echo "== ingest cost per row (100,000 rows)"
  BUILD=$BUILD WORK=$WORK "$(dirname "$0")/browse/ingest-cost.sh" 100000
fi
