#!/usr/bin/env bash
# Runs COMMAND as MPI ranks on two simulated nodes: two network namespaces joined by a veth
# pair (node A 10.77.0.1/24, node B 10.77.0.2/24), NP_PER_NODE ranks each (default 2), mapped by
# slot, so ranks 0..NP_PER_NODE-1 are on A and the rest on B (with TP=2 x DP=2: the TP groups
# {0,1} and {2,3} stay inside a node and the data-parallel groups {0,2}, {1,3} cross the link).
#
#   two_node_run.sh [--min-bytes N] OUTPUT_FILE -- COMMAND [ARGS...]
#
# mpirun runs inside A with a hostfile of the two addresses; it starts B's daemon through
# netns_rsh_agent.sh, which enters B's namespace instead of ssh-ing. MPI traffic is TCP only
# (--mca btl tcp,self), bound to 10.77.0.0/24, as is OpenMPI's own out-of-band channel.
# COMMAND's stdout goes to OUTPUT_FILE, its stderr to this script's stderr. The bytes that
# crossed the veth pair (A's tx_bytes + rx_bytes, read from sysfs before and after) are printed
# on stderr as "two_node_run: veth bytes A->B X B->A Y total Z" and written to OUTPUT_FILE.veth;
# with --min-bytes, fewer than N in total is a failure.
#
# Exit status: COMMAND's (mpirun's); 1 when fewer bytes crossed than --min-bytes; 77 (skip)
# when not root or when network namespaces or veth pairs cannot be created here. Names are
# unique per run (the PID) and a trap deletes the namespaces on exit. Environment: every
# STILTS_* variable is passed to the ranks; MPIEXEC (default mpirun), MPIEXEC_FLAGS (extra
# mpirun flags), NP_PER_NODE, TWO_NODE_TIMEOUT (seconds, default 600: the run is killed and
# the namespaces deleted after it).
set -uo pipefail

usage() {
  echo "usage: $0 [--min-bytes N] OUTPUT_FILE -- COMMAND [ARGS...]" >&2
  exit 2
}
min_bytes=0
if [ "${1:-}" = --min-bytes ]; then
  [ $# -ge 2 ] || usage
  min_bytes=$2
  shift 2
fi
[ $# -ge 3 ] && [ "$2" = "--" ] || usage
output=$1
shift 2
here=$(cd "$(dirname "$0")" && pwd)
per_node=${NP_PER_NODE:-2}

skip() {
  echo "two_node_run: SKIPPED: $*" >&2
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "needs iproute2 (ip); apt-get install iproute2"

ns_a=stilts_a_$$
ns_b=stilts_b_$$
veth_a=stlA$$
veth_b=stlB$$
work=$(mktemp -d)
cleanup() {
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_a" 2>"$work/err" && ip netns add "$ns_b" 2>>"$work/err" ||
  skip "ip netns add failed ($(tr '\n' ' ' <"$work/err")); no network namespaces here"
ip link add "$veth_a" type veth peer name "$veth_b" 2>"$work/err" ||
  skip "ip link add ... type veth failed ($(tr '\n' ' ' <"$work/err"))"
set -e
ip link set "$veth_a" netns "$ns_a"
ip link set "$veth_b" netns "$ns_b"
ip -n "$ns_a" addr add 10.77.0.1/24 dev "$veth_a"
ip -n "$ns_b" addr add 10.77.0.2/24 dev "$veth_b"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set "$veth_a" up
ip -n "$ns_b" link set "$veth_b" up
set +e

counter() {  # counter tx|rx: node A's veth byte counter
  ip netns exec "$ns_a" cat "/sys/class/net/$veth_a/statistics/${1}_bytes"
}

printf '10.77.0.1 slots=%d\n10.77.0.2 slots=%d\n' "$per_node" "$per_node" >"$work/hosts"
export STILTS_NETNS_MAP="10.77.0.1=$ns_a 10.77.0.2=$ns_b"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
forward=(-x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM)
for variable in $(compgen -e | grep '^STILTS_'); do forward+=(-x "$variable"); done

tx_before=$(counter tx)
rx_before=$(counter rx)
# shellcheck disable=SC2086
timeout --kill-after=10 "${TWO_NODE_TIMEOUT:-600}" \
  ip netns exec "$ns_a" "${MPIEXEC:-mpirun}" -np $((2 * per_node)) --hostfile "$work/hosts" \
  --map-by slot --mca plm_rsh_agent "$here/netns_rsh_agent.sh" \
  --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  --mca mpi_yield_when_idle 1 "${forward[@]}" ${MPIEXEC_FLAGS:-} "$@" >"$output"
status=$?
a_to_b=$(($(counter tx) - tx_before))
b_to_a=$(($(counter rx) - rx_before))
total=$((a_to_b + b_to_a))
echo "$total" >"$output.veth"
echo "two_node_run: veth bytes A->B $a_to_b B->A $b_to_a total $total" >&2
if [ "$status" -ne 0 ]; then
  echo "two_node_run: the command failed with status $status" >&2
  exit "$status"
fi
if [ "$total" -lt "$min_bytes" ]; then
  echo "two_node_run: FAILED: only $total bytes crossed the veth pair, the run must exchange at least $min_bytes" >&2
  exit 1
fi
exit 0
