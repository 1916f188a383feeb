#!/usr/bin/env bash
# Compare CPU training throughput of stilts with the PyTorch reference (bench/pytorch_bench.py).
#
#   bench/compare_cpu.sh [STILTS_BINARY]        (default build/launch/stilts)
#
# For each configuration below, the HF config is written by `stilts plan --write-config`, then
# `stilts bench` and the PyTorch script run with the same shapes, alternating ROUNDS times so
# that drifting machine load hits both alike; the best tokens/s of each is reported.
# Environment: STEPS (10), WARMUP (3), ROUNDS (2), THREADS (2), PYTHON (/usr/bin/python3, the
# interpreter with torch).
set -euo pipefail

STILTS=${1:-build/launch/stilts}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# preset batch input-len target-len
CONFIGS=(
  "test-tiny 8 64 16"
  "mt5-small 2 32 8"
)

if [[ ! -x $STILTS ]]; then
  echo "compare_cpu.sh: stilts binary '$STILTS' not found or not executable" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

source "$HERE/bench_output.sh"

rows=()
for entry in "${CONFIGS[@]}"; do
  read -r preset batch tlen ulen <<<"$entry"
  config=$TMP/$preset.json
  "$STILTS" plan --model "$preset" --write-config "$config" >/dev/null
  shape=(--batch "$batch" --input-len "$tlen" --target-len "$ulen" --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS")
  s_tps="" p_tps="" s_mem="" p_mem=""
  for round in $(seq "$ROUNDS"); do
    echo "[$preset round $round/$ROUNDS] stilts bench" >&2
    "$STILTS" bench --model "$preset" "${shape[@]}" | tee "$TMP/stilts.out" >&2
    echo "[$preset round $round/$ROUNDS] pytorch_bench.py" >&2
    "$PYTHON" "$HERE/pytorch_bench.py" --config "$config" "${shape[@]}" | tee "$TMP/pytorch.out" >&2
    s_tps=$(best "$s_tps" "$(field "$TMP/stilts.out" tokens/s)")
    p_tps=$(best "$p_tps" "$(field "$TMP/pytorch.out" tokens/s)")
    s_mem=$(least "$s_mem" "$(field "$TMP/stilts.out" "peak memory")")
    p_mem=$(least "$p_mem" "$(field "$TMP/pytorch.out" "peak memory")")
  done
  ratio=$(awk -v s="$s_tps" -v p="$p_tps" 'BEGIN { printf "%.2f", (p > 0 ? s / p : 0) }')
  rows+=("$(printf '%-10s %5s %5s %5s %14s %14s %8s %11s %11s' "$preset" "$batch" "$tlen" "$ulen" \
    "$s_tps" "$p_tps" "$ratio" "$s_mem" "$p_mem")")
done

printf '%-10s %5s %5s %5s %14s %14s %8s %11s %11s\n' model batch T U "stilts tok/s" "pytorch tok/s" \
  ratio "stilts MiB" "pytorch MiB"
printf '%s\n' "${rows[@]}"
echo "(threads $THREADS, $STEPS timed steps after $WARMUP warm-up, best of $ROUNDS rounds; ratio = stilts/pytorch)"
