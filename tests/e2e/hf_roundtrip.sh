#!/usr/bin/env bash
# Hugging Face directories written by the PyTorch reference import into stilts; stilts exports
# them back bit-identically, in the layout the Python reader checks; `stilts loss` on the
# imported weights equals the reference's per-example NLL. $3: the golden data directory.
source "$(dirname "$0")/lib.sh"
GOLDEN=$3
CHECK="$PY $(dirname "$0")/../golden/check_safetensors.py"

"$STILTS" import-hf "$GOLDEN/model" --out "$WORK/ckpt"
"$STILTS" export-hf "$WORK/ckpt" --out "$WORK/export"
$CHECK --reference "$GOLDEN/model" --candidate "$WORK/export" --bitwise

# Export -> import -> export is bit-identical, file for file.
"$STILTS" import-hf "$WORK/export" --out "$WORK/ckpt2"
"$STILTS" export-hf "$WORK/ckpt2" --out "$WORK/export2"
cmp "$WORK/export/model.safetensors" "$WORK/export2/model.safetensors" || fail "re-export differs"

# Sharded and half-precision exports, read back by Python and by stilts.
"$STILTS" export-hf "$WORK/ckpt" --out "$WORK/sharded" --max-shard-mb 0 --dtype bf16
$CHECK --reference "$GOLDEN/model_sharded" --candidate "$WORK/sharded"
"$STILTS" export-hf "$WORK/ckpt" --out "$WORK/sharded3" --max-shard-mb 1
ls "$WORK/sharded3"/model-0000*-of-0000*.safetensors >/dev/null || fail "no shards written"
$CHECK --reference "$GOLDEN/model" --candidate "$WORK/sharded3" --bitwise
"$STILTS" import-hf "$GOLDEN/model_sharded" --out "$WORK/from-bf16"
"$STILTS" import-hf "$GOLDEN/model_hf_extras" --out "$WORK/from-extras"

# stilts loss on the reference batch equals the reference's per-example NLL.
$PY "$(dirname "$0")/loss_check.py" "$STILTS" "$WORK/ckpt" "$GOLDEN"

# Training starts from imported weights (a Hugging Face directory or a stilts checkpoint).
for source in "$GOLDEN/model" "$WORK/ckpt"; do
  rm -rf "$WORK/finetune"
  "$STILTS" train --init-from "$source" --steps 2 --batch 4 --eval-batches 1 --log-every 1 \
    --run-dir "$WORK/finetune" | tee "$WORK/finetune.txt"
  grep -q "model test-tiny" "$WORK/finetune.txt" || fail "--init-from $source: wrong model"
  [ -f "$WORK/finetune/step-00000002/model-tp00-of-01.h5" ] || fail "--init-from $source: no checkpoint"
done
