#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# What the catalog costs the ingest per file: sluice-catalog-gen fills a new catalog through
# the engine's catalog API (upsert, metadata, intent, completion; 1000 rows per commit) with
# the full schema and again --bare (schema 3's tables and indexes: the browsing additions
# dropped), and prints wall-clock and CPU µs per row for each. CPU is what the ingest's budget
# counts and is steadier on a shared machine; the wall clock adds the commits' fsyncs.
#
#   bench/browse/ingest-cost.sh [ROWS...]        (default: 100000 1000000; build first)
set -eu
BUILD=${BUILD:-$(dirname "$0")/../../_build}
GEN=$BUILD/bench/browse/sluice-catalog-gen
WORK=${WORK:-${TMPDIR:-/tmp}/sluice-ingest-cost}
mkdir -p "$WORK"
[ $# -gt 0 ] || set -- 100000 1000000
for rows in "$@"; do
  for kind in bare full; do
    rm -f "$WORK"/cost.db*
    printf '%-8s %-5s ' "$rows" "$kind"
    if [ "$kind" = bare ]; then
      "$GEN" --rows "$rows" --output "$WORK/cost.db" --bare 2>/dev/null
    else
      "$GEN" --rows "$rows" --output "$WORK/cost.db" 2>/dev/null
    fi
  done
done
rm -f "$WORK"/cost.db*
