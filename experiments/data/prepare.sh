#!/bin/bash
# Turns the downloads of download.sh into the corpora experiments/scaling/grid.ini names
# (experiments/data/corpora/*.h5), with `stilts prepare` and the mT5 SentencePiece model.
# Usage: experiments/data/prepare.sh [STILTS_BINARY] [DATA_DIR]; offline.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STILTS=${1:-$HERE/../../build/launch/stilts}
DATA=${2:-$HERE}
D=$DATA/download
C=$DATA/corpora
TOKENIZER=$DATA/hf/mt5-small/spiece.model   # the same model for every mT5 size
mkdir -p "$C"

prepare() {  # prepare OUT TASK INPUT... [-- OPTIONS]
  local out=$1 task=$2
  shift 2
  if [ -f "$C/$out" ]; then echo "exists: $C/$out"; return; fi
  "$STILTS" prepare --task "$task" --tokenizer "$TOKENIZER" --out "$C/$out" "$@"
}

# Target tasks' English training data (and the intermediate tasks' English side).
prepare xnli-train-en.h5 xnli --input "$D/xnli/train-en.tsv"
prepare mnli-train-en.h5 xnli --input "$D/xnli/train-en.tsv"
prepare squad-train-en.h5 squad --input "$D/squad/train-v1.1.json" --split train
prepare xcopa-train-en.h5 xcopa --input "$D/xcopa/train-en.jsonl"
prepare udpos-train-en.h5 udpos --input "$D/udpos/train-en.tsv"
prepare panx-train-en.h5 panx --input "$D/panx/train-en.tsv"
prepare tydiqa-train-en.h5 tydiqa \
  --input "$D/tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json" --split train

# The multilingual intermediate mixture: MNLI machine-translated (XNLI-MT-1.0), rewritten from
# its header + `premise<TAB>hypo<TAB>label` rows (label "contradictory") into the XNLI layout
# the xnli reader reads (XTREME's utils_preprocess does the same for the English file).
mkdir -p "$D/xnli-mt-xtreme"
for lang in ar bg de el es fr hi ru sw th tr ur vi zh; do
  tsv=$D/xnli-mt-xtreme/train-$lang.tsv
  if [ ! -f "$tsv" ]; then
    awk -F'\t' 'NR > 1 && NF == 3 { sub(/contradictory/, "contradiction", $3);
                                     gsub(/"/, "\"\"", $1); gsub(/"/, "\"\"", $2);
                                     printf "\"%s\"\t\"%s\"\t%s\r\n", $1, $2, $3 }' \
      "$D/xnli-mt/multinli.train.$lang.tsv" > "$tsv"
  fi
  prepare "mnli-train-$lang.h5" xnli --input "$tsv"
done
# ... and SQuAD v1.1 machine-translated into XQuAD's languages (XTREME's translate-train).
for lang in ar de el es hi ru th tr vi zh; do
  prepare "squad-train-$lang.h5" squad --split train --language "$lang" \
    --input "$D/squad-translate-train/squad.translate.train.en-$lang.json"
done
echo "corpora in $C"
