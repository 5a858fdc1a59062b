#!/usr/bin/env bash
# Runs the reproduction study (docs/results.md): every grid in studies/ one after another, each
# into studies-out/<grid>/, then its report. Resumable at every level: run the same command again
# and each finished grid is a quick pass of skipped cells, the interrupted one resumes from its last
# checkpoint (`scaat sweep`'s own resume). Days of CPU on 2 cores in all (each grid's $comment says
# its cost); name grids to run only those, in the order given.
#
#   bash scripts/reproduce.sh                                   # everything, cheapest questions first
#   bash scripts/reproduce.sh cifar10-headline cifar10-cheap     # only these
#   SCAAT_OUT=/big/disk bash scripts/reproduce.sh               # another output folder
#
# CIFAR-10 grids read ../shared/data/cifar10-jpg (their 'data' key; edit it to where your copy is).
# mnist-finetune's six from-scratch cells are mnist-headline's, config for config: they are copied
# in when that grid has them (the sweep checks each copied config against the grid), so only the
# fine-tuning cells train.
set -euo pipefail
cd "$(dirname "$0")/.."

ORDER=(mnist-headline mnist-cheap mnist-search cifar10-headline mnist-noise mnist-kept mnist-finetune cifar10-cheap
  cifar10-length synthetic-32 mnist-epsilon cifar10-epsilon synthetic-96 cifar10-resnet20)
OUT="${SCAAT_OUT:-studies-out}"
grids=("$@")
[ ${#grids[@]} -gt 0 ] || grids=("${ORDER[@]}")
for g in "${grids[@]}"; do
  if [ ! -f "studies/$g.json" ]; then
    echo "reproduce.sh: no grid studies/$g.json (grids: ${ORDER[*]})" >&2
    exit 2
  fi
done
[ -f dist/cli/main.js ] || npm run build

for g in "${grids[@]}"; do
  if [ "$g" = mnist-finetune ] && [ -d "$OUT/mnist-headline" ]; then
    mkdir -p "$OUT/mnist-finetune"
    for cell in "$OUT"/mnist-headline/trainer={regular,scaat}__seed=*; do
      [ -f "$cell/eval.json" ] || continue
      [ -e "$OUT/mnist-finetune/$(basename "$cell")" ] || cp -r "$cell" "$OUT/mnist-finetune/"
    done
  fi
  echo "reproduce.sh: $g → $OUT/$g ($(date -u +%FT%TZ))"
  node bin/scaat.js sweep "studies/$g.json" --out "$OUT/$g"
done
