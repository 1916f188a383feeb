#!/usr/bin/env bash
# The one place the multi-node `mpirun ... stilts train` command line is written. The Slurm job
# (launch/slurm/train.sbatch) and the Kubernetes MPIJob launcher (launch/k8s/mt5-large.yaml)
# both call this script, and tests/e2e/launchers.sh checks all three print the same command.
#
#   launch/mpirun.sh --hostfile FILE [options] [-- STILTS_TRAIN_ARGS...]
#
# Layout: every node runs --gpus-per-node ranks, one per GPU, consecutive ranks on one node
# (ppr mapping). stilts puts tp_rank = rank % tp, so with --tp dividing --gpus-per-node every
# tensor-parallel group sits inside one node (NVLink) and only the data-parallel gradient
# reduction crosses nodes. Each rank picks GPU OMPI_COMM_WORLD_LOCAL_RANK.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: launch/mpirun.sh --hostfile FILE [options] [-- STILTS_TRAIN_ARGS...]

  --hostfile FILE       OpenMPI hostfile, one node per line ("host slots=N"); the nodes used
  --nodes N             use the first N nodes of the hostfile (default: all of them)
  --gpus-per-node N     ranks per node, one per GPU (default: the first line's slots=)
  --tp N                tensor-parallel ranks per replica; must divide --gpus-per-node so a
                        TP group never spans nodes (default: --gpus-per-node)
  --device cuda|cpu     passed to stilts train (default: cuda)
  --config FILE         INI of stilts train options (e.g. launch/mt5-large.ini)
  --workdir DIR         working directory of every rank: the shared volume, so the config's
                        relative data/ and runs/ paths are the same on every node
  --bind none|numa      CPU binding (default: none; see launch/README.md)
  --numa-per-node N     with --bind numa: NUMA domains per node (default: 2)
  --net-if IFACE        network interface for MPI's TCP traffic and NCCL's sockets
  --stilts PATH         the stilts binary (default: $STILTS, else `stilts` on PATH)
  --dry-run             print the command (shell-quoted, one line) instead of running it
  -h, --help            this text

Environment: NCCL_*, STILTS_*, OMP_*, LD_LIBRARY_PATH and PATH are exported to every rank.
MPIRUN names the mpirun binary (default: mpirun).
EOF
}

die() {
  echo "mpirun.sh: error: $*" >&2
  echo "mpirun.sh: see launch/mpirun.sh --help" >&2
  exit 2
}

# need_count OPTION VALUE: a positive decimal integer, or a clear refusal.
need_count() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"
}

hostfile="" nodes="" gpus_per_node="" tp="" device=cuda config="" workdir="" bind=none
numa_per_node=2 net_if="" stilts=${STILTS:-stilts} dry_run=0
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; break ;;
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1; shift ;;
    --hostfile | --nodes | --gpus-per-node | --tp | --device | --config | --workdir | --bind | \
      --numa-per-node | --net-if | --stilts)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --hostfile) hostfile=$2 ;;
        --nodes) nodes=$2 ;;
        --gpus-per-node) gpus_per_node=$2 ;;
        --tp) tp=$2 ;;
        --device) device=$2 ;;
        --config) config=$2 ;;
        --workdir) workdir=$2 ;;
        --bind) bind=$2 ;;
        --numa-per-node) numa_per_node=$2 ;;
        --net-if) net_if=$2 ;;
        --stilts) stilts=$2 ;;
      esac
      shift 2 ;;
    *) die "unknown option '$1' (stilts train options go after --)" ;;
  esac
done
train_args=("$@")

# --- the inputs, each checked with a message naming it ---------------------------------------
[ -n "$hostfile" ] || die "--hostfile is required (one node per line: 'host slots=GPUS')"
[ -f "$hostfile" ] && [ -r "$hostfile" ] || die "--hostfile '$hostfile': no such readable file"
# The hostfile's nodes: first word of each line, comments and blank lines skipped.
mapfile -t hosts < <(sed -e 's/#.*//' "$hostfile" | awk 'NF { print $1 }')
[ ${#hosts[@]} -gt 0 ] || die "--hostfile '$hostfile' names no node"
if [ -z "$gpus_per_node" ]; then
  # mpi-operator writes "host slots=<slotsPerWorker>"; our Slurm job writes the same.
  gpus_per_node=$(sed -e 's/#.*//' "$hostfile" | awk 'NF' | head -n 1 |
    sed -n 's/.*slots=\([^ ]*\).*/\1/p')
  [ -n "$gpus_per_node" ] ||
    die "--gpus-per-node not given and the hostfile's first line has no slots="
fi
need_count --gpus-per-node "$gpus_per_node"
if [ -n "$nodes" ]; then
  need_count --nodes "$nodes"
  [ "$nodes" -le ${#hosts[@]} ] ||
    die "--nodes $nodes but hostfile '$hostfile' names only ${#hosts[@]} node(s)"
else
  nodes=${#hosts[@]}
fi
tp=${tp:-$gpus_per_node}
need_count --tp "$tp"
[ $((gpus_per_node % tp)) -eq 0 ] ||
  die "--tp $tp does not divide --gpus-per-node $gpus_per_node: a tensor-parallel group would" \
    "span nodes (use a divisor of $gpus_per_node)"
case $device in cuda | cpu) ;; *) die "--device must be cuda or cpu, got '$device'" ;; esac
case $bind in none | numa) ;; *) die "--bind must be none or numa, got '$bind'" ;; esac
need_count --numa-per-node "$numa_per_node"
if [ "$bind" = numa ] && [ $((gpus_per_node % numa_per_node)) -ne 0 ]; then
  die "--bind numa: --numa-per-node $numa_per_node does not divide --gpus-per-node $gpus_per_node"
fi
if [ -n "$config" ]; then
  [ -f "$config" ] && [ -r "$config" ] || die "--config '$config': no such readable file"
  # Absolute, since the ranks start in --workdir.
  config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
fi
for arg in "${train_args[@]}"; do
  case $arg in
    --tp | --tp=* | --device | --device=* | --config | --config=*)
      die "give $arg as an option of mpirun.sh (before --), not of stilts train" ;;
  esac
done
if [ "$dry_run" -eq 0 ]; then
  command -v "${MPIRUN:-mpirun}" >/dev/null || die "'${MPIRUN:-mpirun}' not found (install OpenMPI)"
  command -v "$stilts" >/dev/null || die "stilts binary '$stilts' not found (--stilts PATH)"
  [ -z "$workdir" ] || [ -d "$workdir" ] || die "--workdir '$workdir': no such directory"
fi

# --- the command ----------------------------------------------------------------------------
np=$((nodes * gpus_per_node))
cmd=("${MPIRUN:-mpirun}" -np "$np" --hostfile "$hostfile")
if [ "$bind" = numa ]; then
  # Ranks filled NUMA domain by NUMA domain, each bound to its domain's cores: on nodes whose
  # GPUs are numbered socket by socket (DGX/HGX: GPUs 0-3 on socket 0), local rank i then
  # runs on the socket of GPU i. Check with `nvidia-smi topo -m` and --report-bindings.
  cmd+=(--map-by "ppr:$((gpus_per_node / numa_per_node)):numa" --bind-to numa --report-bindings)
else
  # gpus_per_node consecutive ranks per node. No binding: a rank is one process with an
  # OpenMP pool sized to its share of the node's cores and a data-prefetch thread; binding
  # it to one core (OpenMPI's default for <= 2 ranks is core) would starve both.
  cmd+=(--map-by "ppr:${gpus_per_node}:node" --bind-to none)
fi
# MPI only bootstraps NCCL (rank 0's unique id) and carries small host-side collectives; NCCL
# moves the tensors over NVLink/InfiniBand with its own transports. So:
#  pml ob1      point-to-point through the BTLs below, not UCX, which probes InfiniBand and
#               warns or fails in containers without the verbs devices;
#  btl ^openib  never the deprecated verbs BTL (it warns on every IB node); tcp, shared
#               memory and self remain, as in mpi-operator's GPU example
#               (examples/v2beta1/tensorflow-benchmarks).
cmd+=(--mca pml ob1 --mca btl ^openib)
if [ -n "$net_if" ]; then
  # The one network both MPI (data and out-of-band) and NCCL's bootstrap sockets use: pods
  # and many clusters have several interfaces and only one reaches the other nodes.
  cmd+=(--mca btl_tcp_if_include "$net_if" --mca oob_tcp_if_include "$net_if")
  export NCCL_SOCKET_IFNAME=$net_if
fi
# OpenMPI refuses root unless told; containers (the MPIJob image) run as root.
[ "$(id -u)" -ne 0 ] || cmd+=(--allow-run-as-root)
[ -z "$workdir" ] || cmd+=(--wdir "$workdir")
# Ranks on other nodes see only what -x exports: NCCL settings (NCCL_SOCKET_IFNAME, NCCL_IB_*,
# NCCL_DEBUG), stilts' own (STILTS_NCCL_TIMEOUT), OpenMP and the library/binary paths.
for name in LD_LIBRARY_PATH PATH $(compgen -e | grep -E '^(NCCL|STILTS|OMP)_' | sort); do
  [ -z "${!name+set}" ] || cmd+=(-x "$name")
done
cmd+=("$stilts" train --device "$device" --tp "$tp")
[ -z "$config" ] || cmd+=(--config "$config")
cmd+=("${train_args[@]}")

if [ "$dry_run" -eq 1 ]; then
  printf '%q' "${cmd[0]}"
  printf ' %q' "${cmd[@]:1}"
  printf '\n'
  exit 0
fi
echo "mpirun.sh: $nodes node(s) x $gpus_per_node ranks, TP $tp x DP $((np / tp))" >&2
exec "${cmd[@]}"
