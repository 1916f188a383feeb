#!/usr/bin/env bash
# Tensor x data parallel training steps on this machine's CPU under mpirun: for each model and
# layout below, `stilts bench` prints the step time, the part of it spent inside TP and DP
# collectives, tokens/s, and the bytes communicated per step beside what the Megatron layout
# predicts (core/communication_plan.h). One line per run is collected in a table at the end.
#
#   bench/parallel_cpu.sh [STILTS_BINARY]        (default build/launch/stilts)
#
# Environment: STEPS (5), WARMUP (2), MPIEXEC (mpirun). Several ranks share 2 cores here, so
# time inside a collective includes waiting for the ranks the cores are not running: the
# layout's communication volume is the portable result, the times are this machine's.
set -euo pipefail

STILTS=${1:-build/launch/stilts}
STEPS=${STEPS:-5}
WARMUP=${WARMUP:-2}
MPIEXEC=${MPIEXEC:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# preset batch-per-DP-rank input-len target-len
MODELS=("test-small 8 64 16" "mt5-base 2 32 8")
# ranks tp zero
LAYOUTS=("1 1 false" "2 2 false" "4 4 false" "2 1 false" "2 1 true" "4 2 false")

if [[ ! -x $STILTS ]]; then
  echo "parallel_cpu.sh: stilts binary '$STILTS' not found or not executable" >&2
  exit 1
fi
rows=()
for model in "${MODELS[@]}"; do
  read -r preset batch input target <<<"$model"
  for layout in "${LAYOUTS[@]}"; do
    read -r ranks tp zero <<<"$layout"
    zero_switch=()
    if [ "$zero" = true ]; then zero_switch=(--zero); fi
    out=$("$MPIEXEC" -np "$ranks" --oversubscribe --mca mpi_yield_when_idle 1 "$STILTS" bench \
      --model "$preset" --batch "$batch" --input-len "$input" --target-len "$target" \
      --steps "$STEPS" --warmup "$WARMUP" --tp "$tp" "${zero_switch[@]}")
    echo "$out"
    step=$(sed -n 's/^step ms: //p' <<<"$out")
    comm=$(sed -n 's/^communication ms per step (rank 0): TP \([0-9.]*\), DP \([0-9.]*\); compute ms: \([0-9.]*\)$/\1 \2 \3/p' <<<"$out")
    bytes=$(sed -n 's/^communication bytes per step (rank 0): TP \([0-9]*\) measured.*, \([0-9]*\) predicted for the model; DP \([0-9]*\) measured.*, \([0-9]*\) predicted for the gradients$/\1 \2 \3 \4/p' <<<"$out")
    tokens=$(sed -n 's/^tokens\/s: //p' <<<"$out")
    read -r tp_ms dp_ms compute_ms <<<"$comm"
    read -r tp_bytes tp_plan dp_bytes dp_plan <<<"$bytes"
    dp=$((ranks / tp))
    label="$tp x $dp"
    if [ "$zero" = true ]; then label="$label ZeRO-1"; fi
    rows+=("| $preset | $label | $step | $compute_ms | $tp_ms | $dp_ms | $tokens | $tp_plan | $tp_bytes | $dp_plan | $dp_bytes |")
  done
done
echo
echo "| model | TP x DP | step ms | compute ms | TP comm ms | DP comm ms | tokens/s | TP bytes predicted (model) | TP bytes measured | DP bytes predicted (gradients) | DP bytes measured |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
