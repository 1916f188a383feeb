#!/bin/bash
# NEEDS INTERNET. Downloads every dataset of the scaling study (experiments/scaling/grid.ini)
# from its official source, and Google's mT5 weights from the Hugging Face Hub, into
# experiments/data/ (or the folder given as $1):
#   download/   the XTREME layout stilts eval and stilts prepare read, written by the official
#               google-research/xtreme scripts (download_data.sh, utils_preprocess.py)
#   download/xnli-mt/  MNLI machine-translated into the 14 other XNLI languages (XNLI-MT-1.0)
#   download/squad-translate-train/  SQuAD v1.1 machine-translated (XTREME's translate-train)
#   download/tatoeba/v1/  LASER's aligned Tatoeba originals, tatoeba.{xxx}-eng.{xxx} and .eng,
#               which stilts eval reads: XTREME's copy in download/tatoeba/ sorts the English
#               side and keeps no gold
#   download/<task>/original/  the labeled test sets `stilts eval --split test` reads, as their
#               releases unpack (data/tasks.h test_layout, docs/TASKS.md): XTREME's copies have
#               their test labels removed or blanked, and its scripts delete or overwrite the
#               files they made them from
#   hf/mt5-{small,base,large}/  config.json, spiece.model, model.safetensors
# Never run by the tests. Needs git, wget, unzip, python3 (the XTREME scripts; torch and
# safetensors only where the Hub has no model.safetensors; virtualenv for Mewsli-X's
# get-mewsli-x.sh). PAN-X needs AmazonPhotos.zip, downloaded by hand (XTREME's instructions) into
# download/ before running this.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "${1:-$HERE}" && cd "${1:-$HERE}" && pwd)
XTREME_COMMIT=838c13b   # google-research/xtreme master, 2022-11-03

# Official sources (the XTREME scripts fetch them; listed here so each is on record):
#   XNLI          https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip, XNLI-MT-1.0.zip (MNLI train)
#   PAWS-X        https://storage.googleapis.com/paws/pawsx/x-final.tar.gz
#   UD-POS        https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-3105/ud-treebanks-v2.5.tgz,
#                 https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-3424/ud-treebanks-v2.7.tgz
#   PAN-X         https://www.amazon.com/clouddrive/share/d3KGCRCIYwhKJF0H3eWA26hjg2ZCRhjpEQtDL70FSBN (AmazonPhotos.zip, by hand)
#   SQuAD v1.1    https://raw.githubusercontent.com/rajpurkar/SQuAD-explorer/master/dataset/{train,dev}-v1.1.json
#   XQuAD         https://raw.githubusercontent.com/deepmind/xquad/master/xquad.{lang}.json
#   MLQA          https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip
#   TyDiQA-GoldP  https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-{train.json,dev.tgz}
#   XCOPA         https://dl.fbaipublicfiles.com/glue/superglue/data/v2/COPA.zip,
#                 https://raw.githubusercontent.com/cambridgeltl/xcopa/master/data/{lang}/{val,test}.{lang}.jsonl
#   Tatoeba       https://github.com/facebookresearch/LASER/archive/main.zip (data/tatoeba/v1)
#   LAReQA        https://github.com/google-research-datasets/lareqa/archive/master.zip (xquad-r/)
#   Mewsli-X      https://github.com/google-research/google-research/archive/refs/heads/master.zip
#                 (dense_representations_for_entity_retrieval/mel/get-mewsli-x.sh, which fetches
#                 https://storage.googleapis.com/gresearch/mewsli/mewsli-x_20220518_6.zip and the
#                 WikiNews dumps it restores the article text from)
#   mT5 weights   https://huggingface.co/google/mt5-{small,base,large}

cd "$OUT"
if [ ! -d xtreme ]; then
  git clone https://github.com/google-research/xtreme.git xtreme
  git -C xtreme checkout "$XTREME_COMMIT"
fi
# XTREME's scripts write REPO/download/ with REPO the working directory.
if [ -f download/AmazonPhotos.zip ] && [ ! -f xtreme/download/AmazonPhotos.zip ]; then
  mkdir -p xtreme/download
  cp download/AmazonPhotos.zip xtreme/download/
fi
(cd xtreme && bash scripts/download_data.sh)
mkdir -p download
cp -r xtreme/download/. download/

# XNLI-MT-1.0's translated MNLI training files, which download_data.sh deletes after using
# the English one.
if [ ! -d download/xnli-mt ]; then
  wget -c -q --show-progress https://dl.fbaipublicfiles.com/XNLI/XNLI-MT-1.0.zip -P download/
  unzip -qq download/XNLI-MT-1.0.zip -d download/xnli-mt-tmp
  mv download/xnli-mt-tmp/XNLI-MT-1.0/multinli download/xnli-mt
  rm -rf download/xnli-mt-tmp download/XNLI-MT-1.0.zip
fi

# SQuAD v1.1 machine-translated into XQuAD's languages: XTREME's translate-train data, from the
# translations bucket its README links (gs://xtreme_translations). The multilingual intermediate
# regime translates both intermediate tasks, so that neither regime differs from the other in
# which task is translated. The file names follow the bucket's layout as XTREME documents it;
# this script has not been run against the live bucket (the development machine is offline).
mkdir -p download/squad-translate-train
for lang in ar de el es hi ru th tr vi zh; do
  file=download/squad-translate-train/squad.translate.train.en-$lang.json
  [ -f "$file" ] || wget -c -q --show-progress -O "$file" \
    "https://storage.googleapis.com/xtreme_translations/SQuAD/translate-train/squad.translate.train.en-$lang.json"
done

# LASER's Tatoeba files as they are, line i of tatoeba.{xxx}-eng.{xxx} the translation of line i
# of tatoeba.{xxx}-eng.eng (XTREME's download_tatoeba takes the same archive but keeps only its
# sorted copy).
if [ ! -d download/tatoeba/v1 ]; then
  wget -c -q --show-progress -O download/laser-main.zip \
    https://github.com/facebookresearch/LASER/archive/main.zip
  unzip -qq -o download/laser-main.zip 'LASER-main/data/tatoeba/v1/*' -d download/laser-tmp
  mkdir -p download/tatoeba/v1
  cp download/laser-tmp/LASER-main/data/tatoeba/v1/tatoeba.*-eng.* download/tatoeba/v1/
  rm -rf download/laser-tmp download/laser-main.zip
fi

# The labeled test originals, each under download/<task>/original/ as its release unpacks.
# XNLI-1.0: xnli.test.tsv holds every language (XTREME deletes it once split by language).
if [ ! -f download/xnli/original/XNLI-1.0/xnli.test.tsv ]; then
  wget -c -q --show-progress -P download/xnli/original https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip
  unzip -qq -o download/xnli/original/XNLI-1.0.zip -d download/xnli/original
  rm download/xnli/original/XNLI-1.0.zip
fi

# PAWS-X: x-final/{lang}/test_2k.tsv.
if [ ! -d download/pawsx/original/x-final ]; then
  wget -c -q --show-progress -P download/pawsx/original \
    https://storage.googleapis.com/paws/pawsx/x-final.tar.gz
  tar xzf download/pawsx/original/x-final.tar.gz -C download/pawsx/original
  rm download/pawsx/original/x-final.tar.gz
fi

# XCOPA: cambridgeltl/xcopa's data/{lang}/test.{lang}.jsonl (XTREME sets its copies' labels to 0).
for lang in et ht id it qu sw ta th tr vi zh; do
  file=download/xcopa/original/data/$lang/test.$lang.jsonl
  [ -f "$file" ] || wget -c -q --show-progress -P "$(dirname "$file")" \
    "https://raw.githubusercontent.com/cambridgeltl/xcopa/master/data/$lang/test.$lang.jsonl"
done

# UD-POS: each language's *-ud-test.conllu treebanks in udpos/original/{lang}/, from UD v2.5 for
# XTREME's languages and v2.7 for XTREME-R's five, as XTREME's download_treebank takes them.
udpos_treebanks() {  # UD version, its LINDAT handle, the languages taken from it
  local version=$1 handle=$2 missing="" lang
  shift 2
  for lang in "$@"; do
    [ -d "download/udpos/original/$lang" ] || missing="$missing $lang"
  done
  [ -n "$missing" ] || return 0
  wget -c -q --show-progress -P download/udpos-tmp \
    "https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/$handle/ud-treebanks-v$version.tgz"
  tar xzf "download/udpos-tmp/ud-treebanks-v$version.tgz" -C download/udpos-tmp
  for lang in $missing; do
    mkdir -p "download/udpos/original/$lang"
    cp "download/udpos-tmp/ud-treebanks-v$version"/*/"${lang}"_*-ud-test.conllu \
      "download/udpos/original/$lang/"
  done
  rm -rf download/udpos-tmp
}
udpos_treebanks 2.5 1-3105 af ar bg de el en es et eu fa "fi" fr he hi hu id it ja kk ko mr nl pt \
  ru ta te th tl tr ur vi yo zh
udpos_treebanks 2.7 1-3424 lt pl uk wo ro

# PAN-X: AmazonPhotos.zip holds {lang}.tar.gz, whose files dev, test and train go to
# panx/original/{lang}/ (XTREME keeps only its copies, test tags dropped).
if [ -f download/AmazonPhotos.zip ] && [ ! -d download/panx/original ]; then
  unzip -qq -j download/AmazonPhotos.zip -d download/panx-tmp
  for lang in ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru \
      ja ka ko th sw yo my zh kk tr et "fi" hu qu pl uk az lt pa gu ro; do
    mkdir -p "download/panx/original/$lang"
    tar xzf "download/panx-tmp/$lang.tar.gz" -C "download/panx/original/$lang"
  done
  rm -rf download/panx-tmp
fi

# XQuAD: deepmind/xquad's files (XTREME blanks the answers of its copies in place).
for lang in ar de el en es hi ro ru th tr vi zh; do
  file=download/xquad/original/xquad.$lang.json
  [ -f "$file" ] || wget -c -q --show-progress -P download/xquad/original \
    "https://raw.githubusercontent.com/deepmind/xquad/master/xquad.$lang.json"
done

# MLQA: MLQA_V1/test/ (XTREME blanks the answers of its copy in place).
if [ ! -d download/mlqa/original/MLQA_V1 ]; then
  wget -c -q --show-progress -P download/mlqa/original https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip
  unzip -qq -o download/mlqa/original/MLQA_V1.zip -d download/mlqa/original
  rm download/mlqa/original/MLQA_V1.zip
fi

# TyDiQA-GoldP: the dev archive's tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{language}.json, the
# dev set XTREME evaluates as test (it renames and blanks its copies in place).
if [ ! -d download/tydiqa/original/tydiqa-goldp-v1.1-dev ]; then
  wget -c -q --show-progress -P download/tydiqa/original \
    https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-dev.tgz
  tar xzf download/tydiqa/original/tydiqa-goldp-v1.1-dev.tgz -C download/tydiqa/original
  rm download/tydiqa/original/tydiqa-goldp-v1.1-dev.tgz
fi

# Mewsli-X: wikinews_mentions-test.jsonl as get-mewsli-x.sh writes it, every language with its
# entity ids (XTREME splits it by language, blanks the ids and deletes it).
if [ ! -f download/mewslix/original/wikinews_mentions-test.jsonl ]; then
  wget -c -q --show-progress -O download/google-research-master.zip \
    https://github.com/google-research/google-research/archive/refs/heads/master.zip
  unzip -qq -o download/google-research-master.zip \
    'google-research-master/dense_representations_for_entity_retrieval/*' -d download/mewsli-tmp
  mel=download/mewsli-tmp/google-research-master/dense_representations_for_entity_retrieval/mel
  # shellcheck source=/dev/null
  (cd "$mel" && set +u && bash create-env.sh && source mewsli_env/bin/activate &&
    bash get-mewsli-x.sh)
  mkdir -p download/mewslix/original
  cp "$mel/mewsli_x/output/dataset/wikinews_mentions-test.jsonl" download/mewslix/original/
  rm -rf download/mewsli-tmp download/google-research-master.zip
fi

for size in small base large; do
  dir=hf/mt5-$size
  mkdir -p "$dir"
  for file in config.json spiece.model; do
    wget -c -q --show-progress -O "$dir/$file" \
      "https://huggingface.co/google/mt5-$size/resolve/main/$file"
  done
  if [ ! -f "$dir/model.safetensors" ]; then
    if ! wget -q --show-progress -O "$dir/model.safetensors" \
        "https://huggingface.co/google/mt5-$size/resolve/main/model.safetensors"; then
      # The Hub has only PyTorch weights for this size: convert them (stilts import-hf reads
      # safetensors).
      rm -f "$dir/model.safetensors"
      wget -c -q --show-progress -O "$dir/pytorch_model.bin" \
        "https://huggingface.co/google/mt5-$size/resolve/main/pytorch_model.bin"
      python3 - "$dir" <<'PY'
import sys, torch
from safetensors.torch import save_file
d = sys.argv[1]
state = torch.load(f"{d}/pytorch_model.bin", map_location="cpu")
save_file({k: v.contiguous() for k, v in state.items()}, f"{d}/model.safetensors",
          metadata={"format": "pt"})
PY
    fi
  fi
done
echo "downloaded into $OUT/download and $OUT/hf; next: experiments/data/prepare.sh"
