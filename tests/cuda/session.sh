#!/usr/bin/env bash
# The GPU session: everything a lent GPU machine checks and measures, in one call, into one log
# (docs/GPU.md, "The GPU session"). `make gpu-check` runs it.
#
#   tests/cuda/session.sh [--rehearse]
#
# Steps, each timed, each PASS or FAIL in the summary at the end (the exit status is 1 when any
# failed):
#   build      configure build-gpu for this GPU (CMAKE_CUDA_ARCHITECTURES=native), the full build
#              when its packages are installed, else the minimal one (CUDA toolkit and a compiler
#              only), with googletest from GOOGLETEST when no GTest package is installed, and
#              build what the session runs with -j JOBS
#   gpu-tests  every test labelled cuda, with STILTS_REQUIRE_GPU=1: a GPU test that would skip
#              fails instead, and any test ctest reports skipped or not run fails the step
#   kernels    (only when STEPS names it: CI runs it on every change) the CPU kernel tests
#              (unit_kernels), the GPU tests' reference
#   memcheck   compute-sanitizer memcheck on every op test's GPU instance
#   racecheck  compute-sanitizer racecheck on the attention, cross-entropy and RMSNorm tests
#   bench      a training step of mt5-large (bf16 and f32 residual stream) and mt5-small with
#              step time, tokens/s, MFU, peak memory and the allocator's counters
#              (stilts-bench-cuda)
#   compare    the side-by-side with Hugging Face transformers, PyTorch eager and bf16 autocast,
#              on this GPU (bench/compare_gpu.sh)
#
# --rehearse: for a machine without a GPU (the development machines): builds for sm_90 with
# -j JOBS into build-gpu-rehearsal and runs every step, expecting each GPU step to FAIL for the
# want of a GPU, which shows the session cannot pass on skips.
#
# Environment: OUT (the log's folder; default gpu-session), JOBS (default: the cores),
# GOOGLETEST (a googletest source tree; default .gpu-carry/googletest, which `make gpu-carry`
# fills from Debian's /usr/src/googletest), STEPS (the steps to run; default all but kernels), PYTHON
# (python3), and per step a time limit in seconds (LIMIT_BUILD ... LIMIT_COMPARE), so the whole
# fits a lent machine's minutes: the defaults sum to 8 minutes.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
REHEARSE=0
if [[ ${1:-} == --rehearse ]]; then
  REHEARSE=1
elif [[ $# -gt 0 ]]; then
  echo "usage: tests/cuda/session.sh [--rehearse]" >&2
  exit 2
fi

OUT=${OUT:-gpu-session}
JOBS=${JOBS:-$(nproc)}
GOOGLETEST=${GOOGLETEST:-.gpu-carry/googletest}
STEPS=${STEPS:-build gpu-tests memcheck racecheck bench compare}
PYTHON=${PYTHON:-python3}
if ((REHEARSE)); then
  BUILD=build-gpu-rehearsal
  ARCH=90
else
  BUILD=build-gpu
  ARCH=native
fi
declare -A LIMIT=([build]=${LIMIT_BUILD:-180} [gpu-tests]=${LIMIT_GPU_TESTS:-110}
  [kernels]=${LIMIT_KERNELS:-60} [memcheck]=${LIMIT_MEMCHECK:-50} [racecheck]=${LIMIT_RACECHECK:-30}
  [bench]=${LIMIT_BENCH:-50} [compare]=${LIMIT_COMPARE:-60})

mkdir -p "$OUT"
LOG=$OUT/session.log
: >"$LOG"
exec > >(tee -a "$LOG") 2>&1

say() { printf '\n==== %s ====\n' "$*"; }

say "GPU session $(date -u '+%Y-%m-%d %H:%M:%S UTC')$( ((REHEARSE)) && echo ', rehearsal without a GPU')"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1 || true
nvcc --version 2>&1 | tail -1
cmake --version | head -1
command -v compute-sanitizer || echo "compute-sanitizer: not found"
"$PYTHON" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1
echo "cores: $(nproc), jobs: $JOBS, build: $BUILD, CUDA architectures: $ARCH"

# configure [extra cmake flags]: the full build, or the minimal one when its packages are missing.
configure() {
  local flags=(-S . -B "$BUILD" -DSTILTS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DSTILTS_WERROR=ON)
  command -v ninja >/dev/null && flags+=(-G Ninja)
  # A carried source tree wins over an installed GTest, as in CMakeLists.txt.
  [[ -f $GOOGLETEST/CMakeLists.txt ]] &&
    flags+=(-DSTILTS_GOOGLETEST_SOURCE="$(cd "$GOOGLETEST" && pwd)")
  # The rehearsal builds what a bare GPU machine builds, whatever this machine has.
  if ((REHEARSE)); then
    cmake "${flags[@]}" -DSTILTS_MINIMAL=ON
    return
  fi
  if [[ ! -f $BUILD/CMakeCache.txt ]] && cmake "${flags[@]}" >"$OUT/configure-full.log" 2>&1; then
    echo "configured the full build"
    return 0
  fi
  if grep -q 'STILTS_MINIMAL:BOOL=OFF' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "configured the full build"
    return 0
  fi
  echo "the full build's packages are missing ($OUT/configure-full.log): building the minimal one"
  rm -rf "$BUILD"
  cmake "${flags[@]}" -DSTILTS_MINIMAL=ON
}

step_build() {
  configure || return 1
  local targets=(cuda_ops cuda_model cuda_large cuda_nccl cuda_nccl_worker stilts-bench-cuda)
  [[ " $STEPS " == *" kernels "* ]] && targets+=(unit_kernels)
  cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}"
}

# Every cuda-labelled test; none may skip or be left out.
step_gpu_tests() {
  local report=$OUT/ctest-cuda.log
  (cd "$BUILD" && STILTS_REQUIRE_GPU=1 ctest -L cuda --output-on-failure --no-tests=error) \
    | tee "$report"
  local status=${PIPESTATUS[0]}
  if grep -Eq 'Skipped|Not Run|Disabled' "$report"; then
    echo "gpu-tests: ctest reports tests skipped or not run (above): the session checks nothing by skipping"
    return 1
  fi
  return "$status"
}

step_kernels() {
  "$BUILD/tests/unit/kernels/unit_kernels" --gtest_brief=1
}

sanitize() {
  local tool=$1 filter=$2
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  if [[ ! -x $sanitizer ]]; then
    echo "compute-sanitizer not found"
    return 1
  fi
  STILTS_REQUIRE_GPU=1 "$sanitizer" --tool "$tool" --error-exitcode 99 \
    "$BUILD/tests/cuda/cuda_ops" --gtest_brief=1 --gtest_filter="$filter"
}

# The GPU instance of every op test (the CPU's has no device code).
step_memcheck() {
  sanitize memcheck '*/cuda'
}

step_racecheck() {
  sanitize racecheck '*Attention*/cuda:*CrossEntropy*/cuda:*RmsNorm*/cuda'
}

step_bench() {
  local bench=$BUILD/launch/stilts-bench-cuda
  "$bench" mt5-large 8 512 128 10 && "$bench" mt5-large 8 512 128 10 --fp32-residual &&
    "$bench" mt5-small 32 512 128 10
}

step_compare() {
  ROUNDS=1 STEPS=10 PYTHON=$PYTHON CONFIGS="mt5-small 32 512 128;mt5-large 8 512 128" \
    bench/compare_gpu.sh "$BUILD/launch/stilts-bench-cuda"
}

declare -A RESULT SECONDS_TAKEN
FAILED=0
START=$(date +%s)
for step in $STEPS; do
  fn=step_${step//-/_}
  if ! declare -F "$fn" >/dev/null; then
    echo "unknown step '$step' in STEPS; the steps are: build gpu-tests kernels memcheck racecheck bench compare" >&2
    exit 2
  fi
  say "$step (limit ${LIMIT[$step]} s)"
  began=$(date +%s)
  # A subshell under `timeout`, so a hung step ends at its limit and the rest still run.
  export -f "$fn" configure sanitize say
  export BUILD ARCH OUT JOBS GOOGLETEST PYTHON REHEARSE STEPS
  timeout --kill-after=10 "${LIMIT[$step]}" bash -c "$fn"
  status=$?
  SECONDS_TAKEN[$step]=$(($(date +%s) - began))
  if ((status == 0)); then
    RESULT[$step]=PASS
  elif ((status == 124 || status == 137)); then
    RESULT[$step]="FAIL (over its ${LIMIT[$step]} s limit)"
    FAILED=1
  else
    RESULT[$step]="FAIL (exit $status)"
    FAILED=1
  fi
  # Nothing runs on what did not build.
  if [[ $step == build && ${RESULT[$step]} != PASS ]]; then
    say "the build failed: the other steps need it"
    STEPS=build
    break
  fi
done

say "summary ($(($(date +%s) - START)) s in all)"
for step in $STEPS; do
  printf '%-10s %5s s  %s\n' "$step" "${SECONDS_TAKEN[$step]:-0}" "${RESULT[$step]:-not run}"
done
echo "log: $LOG"
exit "$FAILED"
