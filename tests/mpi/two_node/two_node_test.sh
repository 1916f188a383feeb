#!/usr/bin/env bash
# Runs COMMAND as 4 MPI ranks on this host and again across two simulated nodes
# (two_node_run.sh: two network namespaces joined by a veth pair, ranks 0,1 on one, 2,3 on the
# other) and requires the same output from both, and at least MIN bytes across the link.
#
#   two_node_test.sh [--filter REGEX] [--min-bytes MIN] -- COMMAND [ARGS...]
#
# --filter: compare only the parts of stdout lines that match REGEX (grep -oE; e.g. the losses of a
# training run); by default all of stdout. The literal @RUN@ in an argument becomes a fresh
# directory per run (e.g. --run-dir @RUN@/run, so the second run does not resume the first's
# checkpoints). Exit status 77 (skip) where two_node_run.sh cannot
# create namespaces. Environment: MPIEXEC (default mpirun).
set -uo pipefail

usage() {
  echo "usage: $0 [--filter REGEX] [--min-bytes MIN] -- COMMAND [ARGS...]" >&2
  exit 2
}
filter=""
min_bytes=0
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --filter) filter=$2; shift 2 ;;
    --min-bytes) min_bytes=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ $# -ge 2 ] || usage
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

with_run_dir() {  # with_run_dir DIR ARGS...: the arguments with @RUN@ replaced by DIR
  local dir=$1
  shift
  mkdir -p "$dir"
  run_args=()
  local arg
  for arg in "$@"; do run_args+=("${arg//@RUN@/$dir}"); done
}

with_run_dir "$work/two_nodes.run" "$@"
bash "$here/two_node_run.sh" --min-bytes "$min_bytes" "$work/two_nodes.out" -- "${run_args[@]}"
status=$?
[ "$status" -eq 77 ] && exit 77
if [ "$status" -ne 0 ]; then
  echo "two_node_test: FAILED: the two-node run failed (status $status); its output:"
  cat "$work/two_nodes.out"
  exit 1
fi

with_run_dir "$work/one_host.run" "$@"
"${MPIEXEC:-mpirun}" -np 4 --oversubscribe --mca mpi_yield_when_idle 1 "${run_args[@]}" \
  >"$work/one_host.out"
status=$?
if [ "$status" -ne 0 ]; then
  echo "two_node_test: FAILED: the one-host run failed (status $status)"
  exit 1
fi

pick() {
  if [ -n "$filter" ]; then grep -oE -- "$filter" "$1"; else cat "$1"; fi
}
pick "$work/one_host.out" >"$work/one_host.cmp"
pick "$work/two_nodes.out" >"$work/two_nodes.cmp"
echo "----- one host -----"
cat "$work/one_host.cmp"
echo "----- two nodes ($(cat "$work/two_nodes.out.veth") bytes across the veth pair) -----"
cat "$work/two_nodes.cmp"
if [ ! -s "$work/one_host.cmp" ]; then
  echo "two_node_test: FAILED: nothing to compare (no output${filter:+ matching /$filter/})"
  exit 1
fi
if ! diff -u "$work/one_host.cmp" "$work/two_nodes.cmp"; then
  echo "two_node_test: FAILED: the outputs differ"
  exit 1
fi
echo "two_node_test: same output on one host and across two nodes"
