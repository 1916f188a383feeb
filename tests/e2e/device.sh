#!/usr/bin/env bash
# --device, --recompute, --fp32-residual and --debug: an unknown or unavailable device is a
# usage error saying why; recomputed activations give the same losses bit for bit, and so does
# the f32 residual stream on the CPU, which computes in f32 anyway; the CPU debug mode trains
# with its NaN/Inf checks and says that the GPU-against-CPU check needs --device cuda.
source "$(dirname "$0")/lib.sh"

tiny=(--model test-tiny --batch 4 --steps 3 --log-every 1 --eval-batches 1)

expect_error 2 "--device: expected cpu or cuda, got 'tpu'" -- \
  "$STILTS" train --device tpu --run-dir ""
expect_error 2 "--device: expected cpu or cuda, got 'gpu'" -- \
  "$STILTS" bench --device gpu --model test-tiny

# Without the CUDA backend or without a GPU, --device cuda names the reason; with one, it trains.
status=0
"$STILTS" train "${tiny[@]}" --device cuda --run-dir "" >"$WORK/cuda.txt" 2>"$WORK/cuda.err" ||
  status=$?
case $status in
  0) grep -q "step 3/3" "$WORK/cuda.txt" || fail "--device cuda trained but printed no step 3/3" ;;
  2) grep -Eq -- "--device cuda: (this build of stilts has no CUDA backend|.*CUDA device)" \
       "$WORK/cuda.err" || fail "--device cuda refused without the reason: $(cat "$WORK/cuda.err")" ;;
  *) fail "--device cuda exited $status: $(cat "$WORK/cuda.err")" ;;
esac

# The loss of every step, without the throughput and ETA that differ run to run.
losses() { grep -o "^step [0-9]*/[0-9]* | loss [0-9.]*" "$1"; }
"$STILTS" train "${tiny[@]}" --run-dir "" >"$WORK/plain.txt"
"$STILTS" train "${tiny[@]}" --run-dir "" --recompute >"$WORK/recompute.txt"
[ -n "$(losses "$WORK/plain.txt")" ] || fail "no loss lines in $(cat "$WORK/plain.txt")"
[ "$(losses "$WORK/plain.txt")" = "$(losses "$WORK/recompute.txt")" ] ||
  fail "--recompute changed the losses: $(losses "$WORK/plain.txt") vs $(losses "$WORK/recompute.txt")"
"$STILTS" train "${tiny[@]}" --run-dir "" --fp32-residual >"$WORK/fp32_residual.txt"
[ "$(losses "$WORK/plain.txt")" = "$(losses "$WORK/fp32_residual.txt")" ] ||
  fail "--fp32-residual changed the losses on the CPU: $(losses "$WORK/plain.txt") vs $(losses "$WORK/fp32_residual.txt")"

"$STILTS" train "${tiny[@]}" --run-dir "" --debug >"$WORK/debug.txt"
grep -q "debug: NaN/Inf checks after every op; no GPU-against-CPU check" "$WORK/debug.txt" ||
  fail "--debug on the CPU did not say what it checks: $(cat "$WORK/debug.txt")"
[ "$(losses "$WORK/plain.txt")" = "$(losses "$WORK/debug.txt")" ] ||
  fail "--debug changed the losses"

"$STILTS" bench --model test-tiny --batch 2 --input-len 8 --target-len 4 --steps 1 --warmup 0 \
  --recompute --fp32-residual >"$WORK/bench.txt"
grep -q "^tokens/s: " "$WORK/bench.txt" || fail "bench printed no tokens/s: $(cat "$WORK/bench.txt")"
echo "device options ok"
