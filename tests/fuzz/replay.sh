#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# replay.sh FUZZ-SEEDS FUZZ-REPLAY REGRESSIONS-DIR — the meson test "fuzz-replay": generates the
# seed corpus into a temporary directory, then replays it and every kept regression input
# through the fuzz target built with the normal compiler (under ASan/UBSan when the build has
# -Db_sanitize). Output is the replay driver's TAP.
set -euo pipefail
seeds_tool=$1
replay=$2
regressions=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$seeds_tool" --output "$tmp" > /dev/null
exec "$replay" "$regressions" "$tmp"
