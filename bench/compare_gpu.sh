#!/usr/bin/env bash
# Compare GPU training throughput of stilts with Hugging Face's PyTorch mT5 (bench/hf_gpu_bench.py,
# eager, bf16 autocast), on one GPU, side by side.
#
#   bench/compare_gpu.sh [STILTS_BINARY]   (default build/launch/stilts; the minimal build's
#                                           build/launch/stilts-bench-cuda works too)
#
# For each configuration below both programs time STEPS training steps after WARMUP untimed
# ones on the same shapes (Adafactor, dropout 0.1, random ids without padding), alternating
# ROUNDS times so that drifting clocks hit both alike; the best tokens/s and the least peak
# memory of each are reported, with the ratio stilts/pytorch and stilts' MFU.
# Environment: STEPS (10), WARMUP (3; stilts-bench-cuda always warms up 3), ROUNDS (2),
# PYTHON (python3, the interpreter with torch and transformers), CONFIGS (override the list,
# "preset batch input-len target-len;...").
set -euo pipefail

STILTS=${1:-build/launch/stilts}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-2}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# preset batch input-len target-len
IFS=';' read -r -a CONFIGS <<<"${CONFIGS:-mt5-small 32 512 128;mt5-base 16 512 128;mt5-large 8 512 128}"

if [[ ! -x $STILTS ]]; then
  echo "compare_gpu.sh: stilts binary '$STILTS' not found or not executable" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

source "$HERE/bench_output.sh"

run_stilts() {
  local preset=$1 batch=$2 tlen=$3 ulen=$4
  if [[ $(basename "$STILTS") == stilts-bench-cuda ]]; then
    "$STILTS" "$preset" "$batch" "$tlen" "$ulen" "$STEPS"
  else
    "$STILTS" bench --device cuda --model "$preset" --batch "$batch" --input-len "$tlen" \
      --target-len "$ulen" --steps "$STEPS" --warmup "$WARMUP"
  fi
}

rows=()
for entry in "${CONFIGS[@]}"; do
  read -r preset batch tlen ulen <<<"$entry"
  s_tps="" p_tps="" s_mem="" p_mem="" mfu=""
  for round in $(seq "$ROUNDS"); do
    echo "[$preset round $round/$ROUNDS] stilts" >&2
    run_stilts "$preset" "$batch" "$tlen" "$ulen" | tee "$TMP/stilts.out" >&2
    echo "[$preset round $round/$ROUNDS] hf_gpu_bench.py" >&2
    "$PYTHON" "$HERE/hf_gpu_bench.py" --model "$preset" --batch "$batch" --input-len "$tlen" \
      --target-len "$ulen" --steps "$STEPS" --warmup "$WARMUP" | tee "$TMP/pytorch.out" >&2
    tps=$(field "$TMP/stilts.out" tokens/s)
    [[ $(best "$s_tps" "$tps") == "$tps" ]] && mfu=$(field "$TMP/stilts.out" MFU)
    s_tps=$(best "$s_tps" "$tps")
    p_tps=$(best "$p_tps" "$(field "$TMP/pytorch.out" tokens/s)")
    s_mem=$(least "$s_mem" "$(field "$TMP/stilts.out" "peak GPU memory")")
    p_mem=$(least "$p_mem" "$(field "$TMP/pytorch.out" "peak GPU memory")")
  done
  ratio=$(awk -v s="$s_tps" -v p="$p_tps" 'BEGIN { printf "%.2f", (p > 0 ? s / p : 0) }')
  rows+=("$(printf '%-10s %5s %5s %5s %14s %14s %8s %11s %11s %8s' "$preset" "$batch" "$tlen" \
    "$ulen" "$s_tps" "$p_tps" "$ratio" "$s_mem" "$p_mem" "$mfu")")
done

printf '%-10s %5s %5s %5s %14s %14s %8s %11s %11s %8s\n' model batch T U "stilts tok/s" \
  "pytorch tok/s" ratio "stilts MiB" "pytorch MiB" "MFU"
printf '%s\n' "${rows[@]}"
echo "($STEPS timed steps after $WARMUP warm-up, best of $ROUNDS rounds; ratio = stilts/pytorch)"
