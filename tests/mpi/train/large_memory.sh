#!/usr/bin/env bash
# The mt5-large preset takes one training step at TP=4 (4 ranks on this machine) on the CPU,
# and each rank's peak resident memory is under half of what one rank (TP=1) needs. Both runs
# print "peak memory per rank: ... MiB" (stilts train).
#
#   large_memory.sh STILTS
# Environment: MPIEXEC (default mpirun).
set -euo pipefail
stilts=$1
mpiexec=${MPIEXEC:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
step=(train --model mt5-large --task copy --steps 1 --batch 4 --log-every 1 --eval-batches 0
  --run-dir "")

one=$("$stilts" "${step[@]}" | tee /dev/stderr | sed -n 's/^peak memory per rank: \(.*\) MiB$/\1/p')
four=$("$mpiexec" -np 4 --oversubscribe --mca mpi_yield_when_idle 1 "$stilts" "${step[@]}" --tp 4 |
  tee /dev/stderr | sed -n 's/^peak memory per rank: \(.*\) MiB$/\1/p')
echo "peak memory, TP=1: $one MiB; TP=4, each rank: $four MiB"
[ -n "$one" ] && [ -n "$four" ] || { echo "large_memory: FAILED: no peak memory line"; exit 1; }
for rank_peak in $four; do
  if [ $((2 * rank_peak)) -ge "$one" ]; then
    echo "large_memory: FAILED: a TP=4 rank peaked at $rank_peak MiB, not under half of $one MiB"
    exit 1
  fi
done
echo "large_memory: every TP=4 rank under half of TP=1"
