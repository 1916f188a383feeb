#!/usr/bin/env bash
# Bad input gets a clear error naming the option, file or tensor, a non-zero exit, and leaves
# what is on disk intact.
source "$(dirname "$0")/lib.sh"
GOLDEN=$3

expect_error 2 "unknown command" -- "$STILTS" frobnicate
expect_error 2 "unrecognised option '--bogus'" -- "$STILTS" train --bogus 3
expect_error 2 "the argument \('abc'\) for option '--steps' is invalid" -- "$STILTS" train --steps abc
printf 'steps = 5\nlearning_rate = 3\n' >"$WORK/bad.ini"
expect_error 2 "bad.ini: .*learning_rate" -- "$STILTS" train --config "$WORK/bad.ini"
expect_error 2 "--config: cannot open" -- "$STILTS" train --config "$WORK/missing.ini"
expect_error 2 "unknown model preset 'mt5-huge'.*mt5-small" -- "$STILTS" plan --model mt5-huge
expect_error 1 "unknown model preset 'nope'" -- "$STILTS" train --model nope --run-dir "$WORK/r0"
expect_error 2 "--schedule: unknown schedule 'cosine'" -- \
  "$STILTS" train --schedule cosine --run-dir "$WORK/r1"
expect_error 2 "'x' is not a token id" -- \
  "$STILTS" loss --checkpoint "$GOLDEN/model" --inputs "5 x 1" --labels "3 1"
expect_error 1 "input token 999 of example 0 is outside the vocabulary" -- \
  "$STILTS" loss --checkpoint "$GOLDEN/model" --inputs "5 999 1" --labels "3 1"

# An INI config is read, and the command line overrides it.
printf 'steps = 3\nbatch = 4\nlog-every = 1\n' >"$WORK/good.ini"
"$STILTS" train --config "$WORK/good.ini" --model test-tiny --steps 2 --run-dir "$WORK/ini" \
  --eval-batches 1 >"$WORK/ini.txt"
grep -q "step 2/2" "$WORK/ini.txt" || fail "--steps on the command line did not override the INI"
grep -q "batch 4" "$WORK/ini.txt" || fail "the INI's batch was not used"

# Switches take no value on the command line and `name = true` in an INI; the previous
# release's spellings are refused with a message naming the new ones.
expect_error 2 "--zero is a switch and takes no value" -- "$STILTS" train --zero true
expect_error 2 "--scale-parameter is a switch and takes no value" -- \
  "$STILTS" train --scale-parameter=false
printf 'zero = true\n' >"$WORK/zero.ini"
"$STILTS" train --config "$WORK/zero.ini" --model test-tiny --steps 1 --run-dir "" \
  --eval-batches 1 >"$WORK/zero.txt"
grep -q "(ZeRO-1)" "$WORK/zero.txt" || fail "the INI's 'zero = true' did not turn --zero on"
expect_error 2 "--max-input-length was renamed --max-input-len" -- \
  "$STILTS" eval --max-input-length 8
expect_error 2 "--task-weights: 'mnli' is not task=weight" -- \
  "$STILTS" train --corpus "$WORK/zero.ini" --tokenizer none --task-weights mnli
expect_error 2 "--task-weights: task 'mnli' is given twice" -- \
  "$STILTS" train --corpus "$WORK/zero.ini" --tokenizer none --task-weights mnli=1,mnli=2
expect_error 2 "--mixture-weights, --task-weights and --mixture-alpha: give at most one" -- \
  "$STILTS" train --corpus "$WORK/zero.ini" --tokenizer none --task-weights mnli=1 \
  --mixture-alpha 0.5
expect_error 2 "--model was renamed --tokenizer" -- "$STILTS" tokenizer encode --model m.model
printf 'overwrite = true\n' >"$WORK/overwrite.ini"
expect_error 2 "overwrite.ini: --overwrite was renamed --force" -- \
  "$STILTS" export-hf "$WORK/ini" --out "$WORK/never" --config "$WORK/overwrite.ini"

# A checkpoint of another model shape: resuming with an explicit other preset, or loading a
# checkpoint whose config was swapped, is refused and names the shape.
expect_error 1 "test-tiny.*--model test-small|--model test-small.*test-tiny" -- \
  "$STILTS" train --config "$WORK/good.ini" --model test-small --run-dir "$WORK/ini"
step_dir="$WORK/ini/step-00000002"
# --vocab-size reshapes a preset: a resumed run's checkpoint must have that shape (the same
# command line starts and resumes a run), and a run from --init-from takes the checkpoint's.
expect_error 1 "holds a checkpoint of model test-tiny .*--vocab-size 384 \(vocab 384" -- \
  "$STILTS" train --config "$WORK/good.ini" --run-dir "$WORK/ini" --vocab-size 384
expect_error 2 "--vocab-size: applies to a run from a preset, not to --init-from" -- \
  "$STILTS" train --init-from "$step_dir" --vocab-size 384 --run-dir "$WORK/never-trained"
expect_error 2 "--vocab-size: must be at least 3" -- \
  "$STILTS" train --vocab-size 2 --run-dir "$WORK/never-trained"
cp -r "$step_dir" "$WORK/swapped"
$PY - "$WORK/swapped/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["model"]["d_model"] = 32
json.dump(c, open(sys.argv[1], "w"))
PY
expect_error 1 "model-tp00-of-01\.h5.*shape" -- "$STILTS" export-hf "$WORK/swapped" --out "$WORK/never"
[ ! -e "$WORK/never" ] || fail "a failed export left $WORK/never behind"

# A truncated checkpoint is refused.
cp -r "$step_dir" "$WORK/truncated"
truncate -s 2000 "$WORK/truncated/model-tp00-of-01.h5"
expect_error 1 "model-tp00-of-01.h5" -- "$STILTS" export-hf "$WORK/truncated" --out "$WORK/never"

# Safetensors: truncated, wrong shape, wrong dtype.
cp -r "$GOLDEN/model" "$WORK/hf-truncated"
truncate -s 5000 "$WORK/hf-truncated/model.safetensors"
expect_error 1 "model.safetensors" -- "$STILTS" import-hf "$WORK/hf-truncated" --out "$WORK/never"
$PY "$(dirname "$0")/make_bad_safetensors.py" "$GOLDEN/model" "$WORK"
expect_error 1 "lm_head.weight.*shape \[320,32\].*expected \[320,64\]" -- \
  "$STILTS" import-hf "$WORK/hf-wrong-shape" --out "$WORK/never"
expect_error 1 "lm_head.weight.*I64" -- "$STILTS" import-hf "$WORK/hf-wrong-dtype" --out "$WORK/never"
[ ! -e "$WORK/never" ] || fail "a failed import left $WORK/never behind"

# Exporting over an existing directory refuses and keeps it; --force replaces it.
mkdir -p "$WORK/existing" && echo keep >"$WORK/existing/file.txt"
expect_error 1 "existing" -- "$STILTS" export-hf "$WORK/ini" --out "$WORK/existing"
[ "$(cat "$WORK/existing/file.txt")" = keep ] || fail "the existing directory was changed"
"$STILTS" export-hf "$WORK/ini" --out "$WORK/existing" --force >/dev/null
[ -f "$WORK/existing/model.safetensors" ] && [ ! -e "$WORK/existing/file.txt" ] ||
  fail "--force did not replace the directory"
echo "all error cases behave"
