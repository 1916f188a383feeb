#!/usr/bin/env bash
# OpenMPI's rsh agent for two_node_run.sh (--mca plm_rsh_agent): instead of ssh-ing to HOST it
# runs the command (OpenMPI's orted launch line, a shell command) inside the network namespace
# that STILTS_NETNS_MAP assigns to HOST ("10.77.0.1=ns_a 10.77.0.2=ns_b"; mpirun's environment
# reaches the agent).
#
#   netns_rsh_agent.sh HOST COMMAND...
set -euo pipefail
host=$1
shift
namespace=""
for pair in ${STILTS_NETNS_MAP:-}; do
  [ "${pair%%=*}" = "$host" ] && namespace=${pair#*=}
done
if [ -z "$namespace" ]; then
  echo "netns_rsh_agent: no namespace for host $host in STILTS_NETNS_MAP=\"${STILTS_NETNS_MAP:-}\"" >&2
  exit 1
fi
exec ip netns exec "$namespace" bash -c "$*"
