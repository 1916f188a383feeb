#!/usr/bin/env bash
# A checkpoint saved by `stilts train --tp 2` resumes at TP 1 and at TP 4 with the same next
# loss as the TP=2 run that continues: the loader reshards parameters and optimizer state.
#
#   reshard_resume.sh STILTS
# Environment: MPIEXEC (default mpirun).
set -euo pipefail
stilts=$1
mpiexec=${MPIEXEC:-mpirun}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

train() {  # train RANKS TP RUN_DIR STEPS
  "$mpiexec" -np "$1" --oversubscribe --mca mpi_yield_when_idle 1 "$stilts" train \
    --model test-small --task copy --batch 8 --dropout 0 --log-every 1 --eval-batches 0 \
    --tp "$2" --run-dir "$3" --steps "$4" >"$3.out"
}
loss_at() {  # loss_at RUN_DIR STEP: the loss log.jsonl records for STEP
  /usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1] + "/log.jsonl"):
    r = json.loads(line)
    if r.get("step") == int(sys.argv[2]) and "loss" in r:
        print(repr(r["loss"]))' "$1" "$2"
}

train 2 2 "$work/tp2" 6
cp -r "$work/tp2" "$work/tp1"
cp -r "$work/tp2" "$work/tp4"
train 2 2 "$work/tp2" 7
train 1 1 "$work/tp1" 7
train 4 4 "$work/tp4" 7
grep -q "resuming .*step-00000006 at step 6" "$work/tp1.out"
grep -q "resuming .*step-00000006 at step 6" "$work/tp4.out"

want=$(loss_at "$work/tp2" 7)
for tp in 1 4; do
  got=$(loss_at "$work/tp$tp" 7)
  /usr/bin/python3 - "$want" "$got" "$tp" <<'PY'
import sys
want, got, tp = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
error = abs(got - want) / abs(want)
print(f"saved at TP=2, resumed at TP={tp}: step-7 loss {got!r}, TP=2 continued {want!r}, "
      f"relative difference {error:.1e}")
sys.exit(0 if error <= 1e-5 else 1)
PY
done
