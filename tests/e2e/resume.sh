#!/usr/bin/env bash
# 20 steps straight and 10 + resume + 10 give bit-identical losses (dropout on, Adafactor
# with momentum, so every piece of state must survive the checkpoint).
source "$(dirname "$0")/lib.sh"
common=(--model test-tiny --task reverse --batch 8 --seed 3 --log-every 1 --eval-batches 1
        --optimizer adafactor --momentum 0.9 --scale-parameter --lr 1e-2 --warmup-steps 5)
"$STILTS" train "${common[@]}" --steps 20 --run-dir "$WORK/straight"
"$STILTS" train "${common[@]}" --steps 10 --run-dir "$WORK/split"
"$STILTS" train "${common[@]}" --steps 20 --run-dir "$WORK/split" | tee "$WORK/resumed.txt"
grep -q "resuming .*step-00000010 at step 10" "$WORK/resumed.txt" || fail "the second run did not resume"
losses() { $PY -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "loss" in r: print(r["step"], repr(r["loss"]))' "$1"; }
losses "$WORK/straight/log.jsonl" >"$WORK/a.txt"
losses "$WORK/split/log.jsonl" >"$WORK/b.txt"
[ "$(wc -l <"$WORK/a.txt")" -eq 20 ] || fail "expected 20 logged steps"
diff "$WORK/a.txt" "$WORK/b.txt" || fail "resumed losses differ from the straight run"
"$STILTS" export-hf "$WORK/straight" --out "$WORK/straight-hf"
"$STILTS" export-hf "$WORK/split" --out "$WORK/split-hf"
cmp "$WORK/straight-hf/model.safetensors" "$WORK/split-hf/model.safetensors" ||
  fail "final weights differ"
echo "20 losses bit-identical; last: $(tail -1 "$WORK/a.txt")"
