#!/usr/bin/env bash
# `stilts train` on the built-in copy task reaches at least 95% token accuracy on held-out
# examples, measured by the trainer's evaluation and read back from the run's log.
source "$(dirname "$0")/lib.sh"
"$STILTS" train --model test-small --task copy --steps 1000 --batch 32 --optimizer adafactor \
  --lr 1e-2 --scale-parameter --dropout 0 --seed 1 --run-dir "$WORK/run" --log-every 100 \
  --eval-batches 8
accuracy=$($PY -c '
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
evals = [r for r in records if "eval_token_accuracy" in r]
print(evals[-1]["eval_token_accuracy"])' "$WORK/run/log.jsonl")
echo "held-out token accuracy: $accuracy"
$PY -c "import sys; sys.exit(0 if float('$accuracy') >= 0.95 else 1)" ||
  fail "token accuracy $accuracy is below 0.95"
