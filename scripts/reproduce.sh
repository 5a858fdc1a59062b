#!/usr/bin/env bash
# Runs the reproduction study (docs/results.md): every grid in studies/ one after another, each
# into studies-out/<grid>/, then its report. Resumable at every level: run the same command again
# and each finished grid is a quick pass of skipped cells, the interrupted one resumes from its last
# checkpoint (`scaat sweep`'s own resume). Days of CPU on 2 cores in all (each grid's $comment says
# its cost); name grids to run only those, in the order given.
#
#   bash scripts/reproduce.sh                                   # everything, cheapest questions first
#   bash scripts/reproduce.sh cifar10-headline cifar10-cheap     # only these
#   bash scripts/reproduce.sh cifar10-cheap:7-12 synthetic-32     # a grid's cells 7 to 12 (scaat sweep --cells), then another
#   SCAAT_OUT=/big/disk bash scripts/reproduce.sh               # another output folder
#   SCAAT_NATIVE_THREADS=1 bash scripts/reproduce.sh mnist-epsilon:1-9 cifar10-length &
#   SCAAT_NATIVE_THREADS=1 bash scripts/reproduce.sh mnist-epsilon:10-20 synthetic-96 &
#                                      # two queues (disjoint cells of one grid, then different grids),
#                                      # one thread each: on 2 cores about 1.25x the steps per hour of
#                                      # one queue (docs/benchmarks.md)
#   SCAAT_RESULTS=studies/results bash scripts/reproduce.sh     # also keep each done cell's results
#                                      # (no model) in $SCAAT_RESULTS/<grid>/ (scaat sweep --results):
#                                      # on a new machine, the cells found there are restored, not run;
#                                      # a cell stopped by Ctrl-C or SIGTERM (pkill -TERM -f 'scaat.js sweep')
#                                      # is parked there with its latest checkpoint, and resumed
#
# CIFAR-10 grids read ../shared/data/cifar10-jpg (their 'data' key; edit it to where your copy is).
# Grids that share cells with an earlier grid, config for config, get them copied in when that grid
# has them evaluated (the sweep checks each copied config against the grid), so only their own
# cells train: mnist-finetune's six from-scratch cells are mnist-headline's; cifar10-onepass-long's
# 4-epoch cells are cifar10-headline's regular and cifar10-cheap's one-pass cells (its 8-epoch
# cells then continue them).
# Grids whose cells are another grid's runs under other names take them with `scaat sweep --reuse`
# (the same resolved config and evaluation; from its folder in $OUT, and from $SCAAT_RESULTS when
# set): cifar10-epsilon's regular, SGT and ε = 8/255 FGSM-RS SCAAT and PGD-AT cells are
# cifar10-length's 4-epoch cells (and its ε = 16/255 cells cifar10-eps16's, when that grid, run
# beside it, has them first); cifar10-eps16's seed-0 regular and SGT cells (4 and 8 epochs) are
# cifar10-length's, its seed-0 4-epoch SCAAT and PGD-AT cells cifar10-epsilon's (ε = 16/255, FGSM-RS and PGD-7);
# cifar10-finetune's regular cells are cifar10-eps16's 4-epoch regular cells (reused only where they
# have their models: the fine-tuning cells start from them).
set -euo pipefail
cd "$(dirname "$0")/.."

ORDER=(mnist-headline mnist-cheap mnist-search cifar10-headline mnist-noise mnist-kept mnist-finetune cifar10-cheap
  cifar10-onepass-long cifar10-length synthetic-32 synthetic-32-sgt mnist-epsilon cifar10-epsilon cifar10-eps16 mnist-pgd7 cifar10-finetune synthetic-96
  cifar10-resnet20)
OUT="${SCAAT_OUT:-studies-out}"
RESULTS="${SCAAT_RESULTS:-}"
grids=("$@")
[ ${#grids[@]} -gt 0 ] || grids=("${ORDER[@]}")
for arg in "${grids[@]}"; do
  g=${arg%%:*}
  if [ ! -f "studies/$g.json" ]; then
    echo "reproduce.sh: no grid studies/$g.json (grids: ${ORDER[*]})" >&2
    exit 2
  fi
done
[ -f dist/cli/main.js ] || npm run build

# copy_cells GRID FROM GLOB...: FROM's evaluated cells matching a GLOB, into GRID's folder (kept if there)
copy_cells() {
  local grid=$1 from=$2
  shift 2
  [ -d "$OUT/$from" ] || return 0
  mkdir -p "$OUT/$grid"
  for pattern in "$@"; do
    for cell in "$OUT/$from"/$pattern; do
      [ -f "$cell/eval.json" ] || continue
      [ -e "$OUT/$grid/$(basename "$cell")" ] || cp -r "$cell" "$OUT/$grid/"
    done
  done
}

for arg in "${grids[@]}"; do
  g=${arg%%:*}
  cells=()
  [ "$arg" = "$g" ] || cells=(--cells "${arg#*:}")
  case "$g" in
    mnist-finetune) copy_cells mnist-finetune mnist-headline 'trainer=regular__seed=*' 'trainer=scaat__seed=*' ;;
    cifar10-onepass-long)
      copy_cells cifar10-onepass-long cifar10-headline 'seed=*__trainer=regular'
      copy_cells cifar10-onepass-long cifar10-cheap 'seed=*__trainer=scaat__scaat.attackGradient=train-backward__scaat.loss=adv-only__scaat.saliencySource=train-backward' ;;
  esac
  reuse=()
  case "$g" in
    cifar10-epsilon) from=(cifar10-length cifar10-eps16) ;;
    cifar10-eps16) from=(cifar10-epsilon cifar10-length) ;;
    cifar10-finetune) from=(cifar10-eps16) ;;
    *) from=() ;;
  esac
  for f in "${from[@]}"; do
    [ ! -d "$OUT/$f" ] || reuse+=(--reuse "$OUT/$f")
    [ -z "$RESULTS" ] || [ ! -d "$RESULTS/$f" ] || reuse+=(--reuse "$RESULTS/$f")
  done
  echo "reproduce.sh: $g${cells[1]:+ cells ${cells[1]}} → $OUT/$g ($(date -u +%FT%TZ))"
  keep=()
  [ -z "$RESULTS" ] || keep=(--results "$RESULTS/$g")
  node bin/scaat.js sweep "studies/$g.json" --out "$OUT/$g" "${cells[@]}" "${keep[@]}" "${reuse[@]}"
done
