#!/usr/bin/env bash
# The launchers of launch/ (README there), checked without a GPU, a cluster or a network:
#  1. the MPIJob manifests parse and keep mpi-operator's v2beta1 rules and stilts' own
#     (validate_mpijob.py), and broken copies are each refused naming the rule they break;
#  2. launch/mpirun.sh refuses bad input with a clear error;
#  3. mpirun.sh runs the command line the mpi tests run: `stilts train` under mpirun with the
#     arguments of tests/mpi/train/reshard_resume.sh gets exactly those arguments (plus its
#     --device and --tp) and trains to the same losses as the tests' own mpirun;
#  4. the MPIJob launcher and the Slurm job, each dry-run in the environment its scheduler
#     gives it, print the same `stilts train` command and place 8 ranks on each of 2 nodes;
#  5. their shared options file parses, mt5-large accepts TP 8, the container recipe builds
#     what the manifest runs.
#
#   launchers.sh STILTS WORK   (ctest: e2e.launchers)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
# Absolute: one run below starts in another directory.
STILTS=$(cd "$(dirname "$STILTS")" && pwd)/$(basename "$STILTS")
repo=$(cd "$here/../.." && pwd)
launch=$repo/launch
validate=("$PY" "$here/validate_mpijob.py")
manifest=$launch/k8s/mt5-large.yaml
# The direct mpirun below runs as root in containers; mpirun.sh adds its own flag for that.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# More ranks than cores, waiting ranks yielding (the mpi tests' --oversubscribe and
# --mca mpi_yield_when_idle 1), given to mpirun.sh's mpirun through the environment.
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1

# --- 1. the manifests ---------------------------------------------------------------------
"${validate[@]}" check "$launch"/k8s/*.yaml || fail "launch/k8s: the manifests break a rule"

# Broken copies: NAME, the rule that must be named, and the change to the parsed manifest.
mkdir -p "$WORK/bad"
"$PY" - "$manifest" "$WORK/bad" <<'PY'
import sys, yaml
src, out = sys.argv[1], sys.argv[2]
cases = {
    "api-version": lambda j: j.update(apiVersion="kubeflow.org/v1"),
    "mpi-replica-specs": lambda j: j["spec"].pop("mpiReplicaSpecs"),
    "replica-types": lambda j: j["spec"]["mpiReplicaSpecs"].update(
        Chief=j["spec"]["mpiReplicaSpecs"]["Worker"]),
    "launcher-replicas": lambda j: j["spec"]["mpiReplicaSpecs"]["Launcher"].update(replicas=2),
    "worker-replicas": lambda j: j["spec"]["mpiReplicaSpecs"]["Worker"].update(replicas=0),
    "restart-policy": lambda j: j["spec"]["mpiReplicaSpecs"]["Worker"].update(
        restartPolicy="Always"),
    "containers": lambda j: j["spec"]["mpiReplicaSpecs"]["Worker"]["template"]["spec"].update(
        containers=[]),
    "container-name": lambda j: j["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"][
        "containers"][0].pop("name"),
    "clean-pod-policy": lambda j: j["spec"]["runPolicy"].pop("cleanPodPolicy"),
    "clean-pod-policy.value": lambda j: j["spec"]["runPolicy"].update(cleanPodPolicy="Finished"),
    "slots-per-worker": lambda j: j["spec"].update(slotsPerWorker=-1),
    "ssh-auth-mount-path": lambda j: j["spec"].update(sshAuthMountPath=""),
    "worker-hostname": lambda j: j["metadata"].update(name="Stilts-mt5-large"),
    "unknown-field": lambda j: j["spec"].update(slotPerWorker=8),
    "slots-gpus": lambda j: j["spec"].update(slotsPerWorker=4),
    "launcher-no-gpu": lambda j: j["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"][
        "containers"][0]["resources"]["limits"].update({"nvidia.com/gpu": 1}),
    "shared-volume": lambda j: j["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"][
        "containers"][0]["volumeMounts"][0].update(mountPath="/data"),
}
for name, change in cases.items():
    job = yaml.safe_load(open(src))
    change(job)
    with open(f"{out}/{name}.yaml", "w") as f:
        yaml.safe_dump(job, f)
PY
for bad in "$WORK"/bad/*.yaml; do
  name=$(basename "$bad" .yaml)
  rule=${name%.value}
  expect_error 1 "^$bad: $rule: " -- "${validate[@]}" check "$bad" "$launch/k8s/shared-pvc.yaml"
done
printf 'apiVersion: kubeflow.org/v2beta1\nkind: MPIJob\nspec: [unclosed\n' >"$WORK/bad/syntax.yml"
expect_error 1 "$WORK/bad/syntax.yml: yaml: does not parse" -- \
  "${validate[@]}" check "$WORK/bad/syntax.yml"

# --- 2. mpirun.sh refuses bad input ------------------------------------------------------------
printf 'localhost slots=2\n' >"$WORK/hostfile"
mpirun_sh=("$launch/mpirun.sh")
expect_error 2 "--hostfile is required" -- "${mpirun_sh[@]}" --dry-run
expect_error 2 "--hostfile '$WORK/none': no such readable file" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/none"
expect_error 2 "--gpus-per-node must be a positive integer, got 'eight'" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --gpus-per-node eight
expect_error 2 "--nodes must be a positive integer, got '-1'" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --nodes -1
expect_error 2 "--nodes 3 but hostfile .* names only 1 node" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --nodes 3
expect_error 2 "--tp 3 does not divide --gpus-per-node 2" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --tp 3
expect_error 2 "--device must be cuda or cpu" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --device tpu
expect_error 2 "give --tp as an option of mpirun.sh" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" -- --tp 2
expect_error 2 "unknown option '--np'" -- "${mpirun_sh[@]}" --np 2
expect_error 2 "--config '$WORK/none.ini': no such readable file" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --config "$WORK/none.ini"
printf 'localhost\n' >"$WORK/hostfile.noslots"
expect_error 2 "--gpus-per-node not given and the hostfile's first line has no slots=" -- \
  "${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile.noslots"

# --- 3. the mpi tests' command line, through mpirun.sh ----------------------------------------
# The arguments tests/mpi/train/reshard_resume.sh gives `stilts train` under mpirun.
test_args=(--model test-small --task copy --batch 8 --dropout 0 --log-every 1 --eval-batches 0
  --steps 3)
"${mpirun_sh[@]}" --dry-run --hostfile "$WORK/hostfile" --device cpu --stilts "$STILTS" \
  -- "${test_args[@]}" --run-dir "$WORK/via_script" >"$WORK/dry_test.txt"
"$PY" - "$WORK/dry_test.txt" "$STILTS" "$WORK/via_script" "${test_args[@]}" <<'PY' ||
import shlex, sys
line, stilts, run_dir, args = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4:]
words = shlex.split(line)
i = words.index(stilts)
want = [stilts, "train", "--device", "cpu", "--tp", "2", *args, "--run-dir", run_dir]
assert words[i:] == want, f"mpirun.sh runs {words[i:]}, the tests run {want}"
assert words[words.index("-np") + 1] == "2", line
print("ok: mpirun.sh runs the mpi tests' stilts command:", shlex.join(words[i:]))
PY
  fail "mpirun.sh does not run the mpi tests' command line"
"${mpirun_sh[@]}" --hostfile "$WORK/hostfile" --device cpu --stilts "$STILTS" \
  -- "${test_args[@]}" --run-dir "$WORK/via_script" >"$WORK/via_script.out" ||
  fail "mpirun.sh: the training run failed: $(cat "$WORK/via_script.out")"
${MPIEXEC:-mpirun} -np 2 --oversubscribe --mca mpi_yield_when_idle 1 "$STILTS" train \
  "${test_args[@]}" --tp 2 --run-dir "$WORK/direct" >"$WORK/direct.out" ||
  fail "direct mpirun: the training run failed: $(cat "$WORK/direct.out")"
grep -oE 'step [0-9]+/[0-9]+ \| loss [0-9.]+' "$WORK/direct.out" >"$WORK/direct.loss"
grep -oE 'step [0-9]+/[0-9]+ \| loss [0-9.]+' "$WORK/via_script.out" >"$WORK/via_script.loss"
[ "$(wc -l <"$WORK/direct.loss")" -eq 3 ] || fail "direct mpirun printed no 3 loss lines"
diff -u "$WORK/direct.loss" "$WORK/via_script.loss" ||
  fail "mpirun.sh and the tests' mpirun train differently"
echo "ok: mpirun.sh and the tests' mpirun give the same losses: $(tr '\n' ';' <"$WORK/direct.loss")"

# --- 4. the MPIJob launcher and the Slurm job: one command -------------------------------------
# The MPIJob launcher, as the operator starts it: /etc/mpi/hostfile as the controller writes
# it, the container's environment, the image's /opt/stilts being this repository.
"${validate[@]}" hostfile "$manifest" >"$WORK/k8s.hostfile"
mapfile -d '' -t k8s_cmd < <("${validate[@]}" launcher "$manifest")
mapfile -t k8s_env < <("${validate[@]}" env "$manifest")
for i in "${!k8s_cmd[@]}"; do
  k8s_cmd[i]=${k8s_cmd[i]//\/etc\/mpi\/hostfile/$WORK/k8s.hostfile}
  k8s_cmd[i]=${k8s_cmd[i]//\/opt\/stilts/$repo}
done
env -i PATH="$PATH" "${k8s_env[@]}" "${k8s_cmd[@]}" --dry-run >"$WORK/dry_k8s.txt" ||
  fail "the MPIJob launcher's command fails: ${k8s_cmd[*]}"
# The Slurm job, as sbatch starts it on 2 nodes of 8 GPUs (scontrol stubbed).
mkdir -p "$WORK/bin"
printf '#!/bin/sh\n[ "$1 $2" = "show hostnames" ] && printf "node01\\nnode02\\n"\n' \
  >"$WORK/bin/scontrol"
chmod +x "$WORK/bin/scontrol"
env PATH="$WORK/bin:$PATH" SLURM_JOB_NODELIST="node[01-02]" SLURM_GPUS_ON_NODE=8 \
  SLURM_SUBMIT_DIR="$repo" STILTS_SHARED=/shared \
  bash "$launch/slurm/train.sbatch" --dry-run >"$WORK/dry_slurm.txt" ||
  fail "launch/slurm/train.sbatch fails in a 2-node allocation"
read -r workers slots < <("${validate[@]}" layout "$manifest")
"$PY" - "$WORK/dry_k8s.txt" "$WORK/dry_slurm.txt" "$workers" "$slots" "$repo" \
  "$launch/slurm/train.sbatch" <<'PY' || fail "the MPIJob and the Slurm job differ"
import re, shlex, sys
k8s, slurm, workers, slots, repo, sbatch = sys.argv[1:]
workers, slots = int(workers), int(slots)
train = {}
for name, path in (("MPIJob", k8s), ("Slurm", slurm)):
    words = shlex.split(open(path).read())
    np = int(words[words.index("-np") + 1])
    assert np == workers * slots, f"{name}: -np {np}, expected {workers} x {slots}"
    assert words[words.index("--map-by") + 1] == f"ppr:{slots}:node", f"{name}: {words}"
    assert words[words.index("--wdir") + 1] == "/shared", f"{name}: not in the shared volume"
    i = words.index("train") - 1
    train[name] = words[i + 1:]
    print(f"ok: {name}: {np} ranks, {slots} per node: {shlex.join(words[i:])}")
assert train["MPIJob"] == train["Slurm"], f"MPIJob runs {train['MPIJob']}, Slurm {train['Slurm']}"
want = ["train", "--device", "cuda", "--tp", str(slots), "--config", f"{repo}/launch/mt5-large.ini"]
assert train["MPIJob"] == want, f"{train['MPIJob']} != {want}"
# The sbatch header asks for the manifest's layout.
header = dict(re.findall(r"^#SBATCH --([a-z-]+)=(\S+)", open(sbatch).read(), re.M))
assert header["nodes"] == str(workers), header
assert header["ntasks-per-node"] == header["gpus-per-node"] == str(slots), header
print("ok: the MPIJob and the Slurm job run one command, on", workers, "x", slots, "GPUs")
PY

# --- 5. the options file, the layout, the container recipe -------------------------------------
# Every key of mt5-large.ini is a stilts train option: the run gets as far as its first data
# file (relative to the working directory, the shared volume on a cluster).
mkdir -p "$WORK/empty_shared"
(cd "$WORK/empty_shared" &&
  expect_error 2 "--corpus: 'data/train.h5' is not a readable file" -- \
    "$STILTS" train --config "$launch/mt5-large.ini" --device cpu)
"$STILTS" plan --model mt5-large --tp "$slots" >"$WORK/plan.txt" ||
  fail "stilts plan refuses mt5-large at TP $slots: $(cat "$WORK/plan.txt")"
dockerfile=$launch/Dockerfile
grep -Eq '^FROM nvidia/cuda:13\.[0-9.]+-devel-' "$dockerfile" || fail "Dockerfile: no CUDA 13 devel base"
grep -q 'launch/install_deps.sh' "$dockerfile" || fail "Dockerfile: packages not from install_deps.sh"
grep -q -- '-DSTILTS_CUDA=ON' "$dockerfile" || fail "Dockerfile: not a CUDA build"
grep -q -- '-DCMAKE_CUDA_ARCHITECTURES="80;90"' "$dockerfile" || fail "Dockerfile: architectures"
grep -q 'COPY . /opt/stilts' "$dockerfile" || fail "Dockerfile: the source is not at /opt/stilts"
grep -q '/usr/local/bin/stilts' "$dockerfile" || fail "Dockerfile: stilts not on PATH"
grep -q 'openssh-server' "$dockerfile" || fail "Dockerfile: no sshd for the MPIJob workers"
grep -q 'Port 2222' "$dockerfile" || fail "Dockerfile: sshd not on port 2222 (the readinessProbe's)"
echo "launchers: ok"
