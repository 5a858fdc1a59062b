#!/usr/bin/env bash
# Publishes a grid's report into docs/results/<grid>/: reports the grid's kept results
# (studies/results/<grid>, or the sweep folder given), then copies the files docs/results.md links:
# table.md and the figures (the fronts, SCAAT's q_i per group). The tables of docs/results.md that
# join several grids come from scripts/groups-table.ts and scripts/poster-table.ts (their commands
# are in docs/results.md beside each table).
#
#   bash scripts/publish-grid.sh mnist-epsilon                         # from studies/results/mnist-epsilon
#   bash scripts/publish-grid.sh mnist-epsilon studies-out/mnist-epsilon   # from a full sweep folder
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash scripts/publish-grid.sh <grid> [<sweep or results folder>]" >&2
  exit 2
fi
grid=$1
dir=${2:-studies/results/$grid}
if [ ! -f "$dir/sweep.json" ]; then
  echo "publish-grid.sh: $dir has no sweep.json (expected a sweep folder or scaat sweep --results folder of grid '$grid')" >&2
  exit 2
fi
npm run build > /dev/null   # the report as the sources say
node bin/scaat.js report "$dir" > /dev/null
dest=docs/results/$grid
mkdir -p "$dest"
cp "$dir/report/table.md" "$dest/table.md"
shopt -s nullglob
for f in "$dir"/report/figures/front-*.png "$dir"/report/figures/q-distribution-*.png; do cp "$f" "$dest/"; done
echo "publish-grid.sh: $dest: $(cd "$dest" && ls | tr '\n' ' ')"
