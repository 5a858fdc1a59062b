#!/usr/bin/env bash
# Publishes a grid's report into docs/results/<grid>/: reports the grid's kept results
# (studies/results/<grid>, written by `scaat sweep --results`) with the sources as they are (not
# dist/, which a running study may be using), into a fresh folder, then replaces the files
# docs/results.md links: table.md and the figures (the fronts, SCAAT's q_i per group).
# test/integration/published-results.test.ts checks that the published table.md is what the kept
# results make. The tables of docs/results.md that join several grids come from
# scripts/groups-table.ts and scripts/poster-table.ts (their commands are beside each table).
#
#   bash scripts/publish-grid.sh mnist-epsilon
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 1 ]; then
  echo "usage: bash scripts/publish-grid.sh <grid>   (its kept results: studies/results/<grid>)" >&2
  exit 2
fi
grid=$1
dir=studies/results/$grid
if [ ! -f "$dir/sweep.json" ]; then
  echo "publish-grid.sh: $dir/sweep.json not found (expected the kept results of grid '$grid': scaat sweep studies/$grid.json --out <dir> --results $dir)" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SCAAT_FROM_SOURCE=1 node bin/scaat.js report "$dir" --out "$out" > /dev/null
dest=docs/results/$grid
mkdir -p "$dest"
rm -f "$dest"/front-*.png "$dest"/q-distribution-*.png
cp "$out/table.md" "$dest/table.md"
shopt -s nullglob
for f in "$out"/figures/front-*.png "$out"/figures/q-distribution-*.png; do cp "$f" "$dest/"; done
echo "publish-grid.sh: $dest: $(cd "$dest" && ls | tr '\n' ' ')"
