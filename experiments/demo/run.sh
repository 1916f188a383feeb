#!/usr/bin/env bash
# The embedded demo (experiments/demo/README.md): the controlled study on synthetic languages,
# from `stilts synth` to the report and its checks. `make demo` runs it with the defaults;
# tests/e2e/demo.sh runs it at one size on a smaller study.
#   experiments/demo/run.sh [--stilts BIN] [--work DIR] [--grid GRID.ini] [--models "A, B"]
#                           [--regimes "R, S"] [--synth "OPTIONS"] [--vocab-size N]
#
# --models and --regimes replace the grid's lists (`make demo-full`: the three larger sizes and
# regime none); --synth passes options to `stilts synth` (the tests' smaller study). Every step
# keeps what an earlier invocation made (the study, the tokenizer, the corpora, the finished
# stages of the grid), so a second run only prints the report again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stilts=$root/build/launch/stilts
work=$root/runs/demo
grid=$here/grid.ini
synth_options=
vocab_size=2000
models=
regimes=

usage() {
  sed -n '5,6p' "$0" | sed 's/^#  *//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case $1 in
    --stilts) stilts=$2 ;;
    --work) work=$2 ;;
    --grid) grid=$2 ;;
    --synth) synth_options=$2 ;;
    --models) models=$2 ;;
    --regimes) regimes=$2 ;;
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
study=$work/study
data=$work/data
table=$study/languages.tsv

# 1. The study: six languages' text, the tasks, the language table (data/synthetic_study.h).
if [ ! -d "$study" ]; then
  step "writing the synthetic study"
  # shellcheck disable=SC2086  # the options are words
  "$stilts" synth --out "$study" $synth_options
fi

# 2. A BPE model of every language's text: each word and each label one piece (docs/TASKS.md).
if [ ! -f "$data/study.model" ]; then
  step "training the tokenizer ($vocab_size pieces)"
  "$stilts" tokenizer train --model-type bpe --vocab-size "$vocab_size" \
    --model-prefix "$data/study" $(printf -- '--input %s ' "$study"/text/*.txt) >/dev/null
fi

# 3. The corpora: span-corrupted text of every language (pretraining); the object's topic in
#    English and the mix languages, with true or shuffled labels (the intermediate task); the
#    subject's topic in English (the target task).
prepare() {
  local out=$data/$1 && shift
  [ -f "$out" ] || "$stilts" prepare "$@" --tokenizer "$data/study.model" --languages "$table" \
    --out "$out" >/dev/null
}
step "preparing the corpora"
for l in $(tail -n +2 "$table" | cut -f1); do
  prepare "text-$l.h5" --task synth-text --input "$study/text/$l.txt" \
    --objective span_corruption --max-input-len 128
done
for f in "$study"/object/train-*.tsv; do
  l=$(basename "$f" .tsv) && l=${l#train-}
  prepare "object-$l.h5" --task synth-object --input "$f"
  prepare "shuffled-$l.h5" --task synth-object --input "$study/object-shuffled/train-$l.tsv"
done
prepare topic-en.h5 --task synth-topic --input "$study/topic/train-en.tsv"

# 4. The grid, from a copy beside the data so that its relative paths name this work folder.
sed -e "${models:+s/^models *=.*/models = $models/}" -e "${regimes:+s/^regimes *=.*/regimes = $regimes/}" \
  "$grid" >"$work/grid.ini"
step "running the grid ($(basename "$grid"))"
"$stilts" experiment "$work/grid.ini"

# 5. Each stage learned its task: English dev accuracy of every intermediate and target
#    checkpoint of the first seed (the pretrained checkpoints show theirs in retrieval).
step "checking each stage on its English dev set"
runs=$work/runs
dev_eval() {  # CHECKPOINT TASK OUT -> the English dev accuracy
  if [ ! -f "$3/$2/summary.json" ]; then
    mkdir -p "$3"
    "$stilts" eval --checkpoint "$1" --tokenizer "$data/study.model" --task "$2" --data "$study" \
      --split dev --langs en --languages "$table" --batch 128 --out "$3" >"$3.log" 2>&1 ||
      { cat "$3.log" >&2; exit 1; }
  fi
  printf '%.1f' "$(grep -o '"en": *[0-9.]*' "$3/$2/summary.json" | head -1 | sed 's/.*: *//')"
}
seed=$(sed -n 's/^seeds *= *\([0-9]*\).*/\1/p' "$work/grid.ini")
note="**Each stage learned its task** (English dev accuracy, seed $seed; the shuffled regime's \
intermediate stage is at chance, 25, by design):"
for model in $(sed -n 's/^models *= *//p' "$work/grid.ini" | tr ',' ' '); do
  line=
  for regime in $(sed -n 's/^regimes *= *//p' "$work/grid.ini" | tr ',' ' '); do
    run=$runs/$model-$regime-synth-topic-s$seed
    [ "$regime" = none ] || line="$line intermediate $regime $(dev_eval \
      "$runs/shared/intermediate/$model-$regime-s$seed" synth-object "$work/dev/$model-$regime-intermediate");"
    line="$line target after $regime $(dev_eval "$run/target" synth-topic "$work/dev/$model-$regime-target");"
  done
  note="$note $model:${line%;}."
done
echo "$note"

# 6. The report, with the checks of the controlled study at its top.
step "writing the report"
baseline=english
grep -Eq '^regimes *=.*\bnone\b' "$work/grid.ini" && baseline=none
"$stilts" report "$runs" --languages "$table" --baseline $baseline --checks --identity-language ei \
  --note "**Small-model numbers on synthetic languages.** This is stilts' embedded demo \
(experiments/demo/README.md): a controlled study whose answer is known in advance, on languages \
made by \`stilts synth\`. Its checks test the pipeline (mixture, evaluation, grouping, intervals); \
its numbers say nothing about mT5 or about real languages." --note "$note"
step "done"
cat "$runs/report/report.md"
echo
echo "report: $runs/report/ (report.html, report.md, report.csv, plots/*.png and *.svg)"
echo "wall time: $(($(date +%s) - start)) s"
