#!/usr/bin/python3
"""Offline checks of stilts' Kubernetes manifests (launch/k8s/), no cluster needed.

  validate_mpijob.py check FILE...     every rule below; prints "FILE: RULE: message" for each
                                       violation and exits 1 (0 and "ok: FILE" when clean)
  validate_mpijob.py hostfile FILE     the hostfile mpi-operator mounts at /etc/mpi/hostfile
  validate_mpijob.py launcher FILE     the launcher container's command and args, NUL-separated
  validate_mpijob.py env FILE          the launcher container's environment, NAME=VALUE per line
  validate_mpijob.py layout FILE       "WORKERS SLOTS": worker replicas and slotsPerWorker

Three groups of rules, each named in the message:
  * the MPIJob v2beta1 schema (kubeflow/mpi-operator: pkg/apis/kubeflow/v2beta1/types.go and
    the CRD's openAPIV3Schema in manifests/base/kubeflow.org_mpijobs.yaml, including the
    Kubernetes PodTemplateSpec it embeds);
  * the rules of pkg/apis/kubeflow/validation/validation.go, applied after the defaults of
    pkg/apis/kubeflow/v2beta1/default.go, as the operator applies them;
  * stilts' own rules for its GPU jobs (launch/README.md): slots = GPUs per worker, no GPU on
    the launcher, one image, a shared ReadWriteMany volume as the ranks' working directory,
    an enlarged /dev/shm, and a launcher that runs launch/mpirun.sh.
"""
import re
import sys

import yaml

API_VERSION = "kubeflow.org/v2beta1"
# types.go: the replica types of mpiReplicaSpecs.
REPLICA_TYPES = ("Launcher", "Worker")
# types.go: MPIJobSpec's fields.
SPEC_FIELDS = {"slotsPerWorker", "runLauncherAsWorker", "runPolicy", "sshAuthMountPath",
               "launcherCreationPolicy", "mpiImplementation", "mpiReplicaSpecs"}
# types.go: RunPolicy's fields.
RUN_POLICY_FIELDS = {"cleanPodPolicy", "ttlSecondsAfterFinished", "activeDeadlineSeconds",
                     "backoffLimit", "schedulingPolicy", "suspend", "managedBy"}
SCHEDULING_FIELDS = {"minAvailable", "queue", "minResources", "priorityClass",
                     "scheduleTimeoutSeconds"}
REPLICA_FIELDS = {"replicas", "template", "restartPolicy"}
CLEAN_POD_POLICIES = ("None", "Running", "All")
RESTART_POLICIES = ("Never", "OnFailure")
LAUNCHER_CREATION_POLICIES = ("AtStartup", "WaitForWorkersReady")
MPI_IMPLEMENTATIONS = ("OpenMPI", "Intel", "MPICH")
MANAGED_BY = ("kubeflow.org/mpi-operator", "kueue.x-k8s.io/multikueue")
# default.go: the restartPolicy defaults.
DEFAULT_RESTART = {"Launcher": "OnFailure", "Worker": "Never"}
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
GPU = "nvidia.com/gpu"
HOSTFILE = "/etc/mpi/hostfile"  # mpi_job_controller.go mounts <job>-config at /etc/mpi


class Checker:
    def __init__(self, path):
        self.path = path
        self.errors = []

    def fail(self, rule, message):
        self.errors.append(f"{self.path}: {rule}: {message}")


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        sys.exit(f"{path}: yaml: does not parse: {e}")


def mpijobs(docs):
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "MPIJob"]


def containers_of(replica):
    try:
        containers = replica["template"]["spec"]["containers"]
    except (KeyError, TypeError):
        return []
    return containers if isinstance(containers, list) else []


def check_schema(c, job):
    """The v2beta1 schema (types.go and the CRD)."""
    if job.get("apiVersion") != API_VERSION:
        c.fail("api-version", f"apiVersion is {job.get('apiVersion')!r}, must be {API_VERSION}")
    name = (job.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        c.fail("metadata-name", "metadata.name is required")
    spec = job.get("spec")
    if not isinstance(spec, dict):
        c.fail("mpi-replica-specs", "spec.mpiReplicaSpecs is required (the CRD's only required "
               "field), and there is no spec")
        return
    # The CRD is structural: Kubernetes drops unknown fields silently, so a misspelt field
    # (slotPerWorker) would vanish and its default apply. Refuse them here instead.
    for key in sorted(set(spec) - SPEC_FIELDS):
        c.fail("unknown-field", f"spec.{key} is not a v2beta1 MPIJobSpec field "
               f"({', '.join(sorted(SPEC_FIELDS))})")
    if "mpiReplicaSpecs" not in spec or not isinstance(spec["mpiReplicaSpecs"], dict):
        c.fail("mpi-replica-specs", "spec.mpiReplicaSpecs is required (the CRD's only required "
               "field) and must be a map of replica type to replica spec")
    else:
        for rtype, replica in spec["mpiReplicaSpecs"].items():
            if rtype not in REPLICA_TYPES:
                c.fail("replica-types", f"spec.mpiReplicaSpecs.{rtype}: the replica types are "
                       f"{' and '.join(REPLICA_TYPES)} only")
                continue
            if not isinstance(replica, dict):
                c.fail("replica-spec", f"spec.mpiReplicaSpecs.{rtype} must be a map")
                continue
            for key in sorted(set(replica) - REPLICA_FIELDS):
                c.fail("unknown-field", f"spec.mpiReplicaSpecs.{rtype}.{key} is not a "
                       f"ReplicaSpec field ({', '.join(sorted(REPLICA_FIELDS))})")
            if "replicas" in replica and not is_int(replica["replicas"]):
                c.fail("replicas-type", f"spec.mpiReplicaSpecs.{rtype}.replicas must be an "
                       "integer")
    if "slotsPerWorker" in spec and not is_int(spec["slotsPerWorker"]):
        c.fail("slots-per-worker", "spec.slotsPerWorker must be an integer")
    if "runLauncherAsWorker" in spec and not isinstance(spec["runLauncherAsWorker"], bool):
        c.fail("run-launcher-as-worker", "spec.runLauncherAsWorker must be a boolean")
    policy = spec.get("launcherCreationPolicy")
    if policy is not None and policy not in LAUNCHER_CREATION_POLICIES:
        c.fail("launcher-creation-policy", f"spec.launcherCreationPolicy {policy!r} is not one "
               f"of {', '.join(LAUNCHER_CREATION_POLICIES)}")
    impl = spec.get("mpiImplementation")
    if impl is not None and impl not in MPI_IMPLEMENTATIONS:
        c.fail("mpi-implementation", f"spec.mpiImplementation {impl!r} is not one of "
               f"{', '.join(MPI_IMPLEMENTATIONS)}")
    run_policy = spec.get("runPolicy")
    if isinstance(run_policy, dict):
        for key in sorted(set(run_policy) - RUN_POLICY_FIELDS):
            c.fail("unknown-field", f"spec.runPolicy.{key} is not a RunPolicy field "
                   f"({', '.join(sorted(RUN_POLICY_FIELDS))})")
        # validation.go validateRunPolicy: these three, when set, are non-negative integers.
        for key in ("ttlSecondsAfterFinished", "activeDeadlineSeconds", "backoffLimit"):
            if key in run_policy and not (is_int(run_policy[key]) and run_policy[key] >= 0):
                c.fail("run-policy", f"spec.runPolicy.{key} must be a non-negative integer, "
                       f"got {run_policy[key]!r}")
        scheduling = run_policy.get("schedulingPolicy")
        if scheduling is not None:
            if not isinstance(scheduling, dict):
                c.fail("run-policy", "spec.runPolicy.schedulingPolicy must be a map")
            else:
                for key in sorted(set(scheduling) - SCHEDULING_FIELDS):
                    c.fail("unknown-field", f"spec.runPolicy.schedulingPolicy.{key} is not a "
                           "SchedulingPolicy field")
        if "suspend" in run_policy and not isinstance(run_policy["suspend"], bool):
            c.fail("run-policy", "spec.runPolicy.suspend must be a boolean")
        managed = run_policy.get("managedBy")
        if managed is not None and managed not in MANAGED_BY:
            c.fail("managed-by", f"spec.runPolicy.managedBy {managed!r} is not one of "
                   f"{', '.join(MANAGED_BY)}")
    elif run_policy is not None:
        c.fail("run-policy", "spec.runPolicy must be a map")


def check_validation(c, job):
    """validation.go's rules, after default.go's defaults."""
    spec = job.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("mpiReplicaSpecs"), dict):
        return
    replicas = spec["mpiReplicaSpecs"]
    # slotsPerWorker: default 1 (default.go), >= 0 (validation.go).
    slots = spec.get("slotsPerWorker", 1)
    if is_int(slots) and slots < 0:
        c.fail("slots-per-worker", f"spec.slotsPerWorker is {slots}, must be >= 0")
    # sshAuthMountPath: default /root/.ssh (default.go), never empty (validation.go).
    if "sshAuthMountPath" in spec and not spec["sshAuthMountPath"]:
        c.fail("ssh-auth-mount-path", "spec.sshAuthMountPath must not be empty")
    # cleanPodPolicy: None, Running or All, and validation.go requires it to be set. The
    # webhook would default it to None; a manifest of ours states it.
    run_policy = spec.get("runPolicy") if isinstance(spec.get("runPolicy"), dict) else {}
    if "cleanPodPolicy" not in run_policy:
        c.fail("clean-pod-policy", "spec.runPolicy.cleanPodPolicy must be set "
               f"({', '.join(CLEAN_POD_POLICIES)})")
    elif run_policy["cleanPodPolicy"] not in CLEAN_POD_POLICIES:
        c.fail("clean-pod-policy", f"spec.runPolicy.cleanPodPolicy "
               f"{run_policy['cleanPodPolicy']!r} is not one of {', '.join(CLEAN_POD_POLICIES)}")
    # validation.go: a Launcher spec is required, with exactly 1 replica.
    launcher = replicas.get("Launcher")
    if not isinstance(launcher, dict):
        c.fail("launcher-replicas", "spec.mpiReplicaSpecs.Launcher is required, with replicas 1")
    elif launcher.get("replicas", 1) != 1:
        c.fail("launcher-replicas", f"spec.mpiReplicaSpecs.Launcher.replicas is "
               f"{launcher.get('replicas')!r}, must be 1")
    # validation.go: a Worker spec, when present, has at least 1 replica.
    worker = replicas.get("Worker")
    if isinstance(worker, dict):
        count = worker.get("replicas", 1)
        if is_int(count) and count < 1:
            c.fail("worker-replicas", f"spec.mpiReplicaSpecs.Worker.replicas is {count}, "
                   "must be >= 1")
    for rtype in REPLICA_TYPES:
        replica = replicas.get(rtype)
        if not isinstance(replica, dict):
            continue
        # validation.go: restartPolicy is Never or OnFailure (default.go: launcher
        # OnFailure, worker Never).
        restart = replica.get("restartPolicy", DEFAULT_RESTART[rtype])
        if restart not in RESTART_POLICIES:
            c.fail("restart-policy", f"spec.mpiReplicaSpecs.{rtype}.restartPolicy {restart!r} "
                   f"is not one of {', '.join(RESTART_POLICIES)}")
        # validation.go: each replica spec has at least one container.
        containers = containers_of(replica)
        if not containers:
            c.fail("containers", f"spec.mpiReplicaSpecs.{rtype}.template.spec.containers must "
                   "list at least one container")
        # The embedded PodTemplateSpec (as the API server validates it against the CRD's
        # openAPIV3Schema"): every container has a name, a DNS-1123 label unique in the pod.
        seen = set()
        for i, container in enumerate(containers):
            name = container.get("name") if isinstance(container, dict) else None
            where = f"spec.mpiReplicaSpecs.{rtype}.template.spec.containers[{i}]"
            if not isinstance(name, str) or not name:
                c.fail("container-name", f"{where}.name is required")
            elif not DNS1123.match(name) or len(name) > 63:
                c.fail("container-name", f"{where}.name {name!r} is not a DNS-1123 label")
            elif name in seen:
                c.fail("container-name", f"{where}.name {name!r} is used twice in the pod")
            else:
                seen.add(name)
    # validation.go: <name>-worker-<N-1> must be a valid DNS-1035 label.
    name = (job.get("metadata") or {}).get("name")
    if isinstance(name, str) and name:
        count = 1
        if isinstance(worker, dict) and is_int(worker.get("replicas")) and worker["replicas"] > 0:
            count = worker["replicas"]
        host = f"{name}-worker-{count - 1}"
        if not DNS1035.match(host) or len(host) > 63:
            c.fail("worker-hostname", f"the last worker's host name {host!r} is not a DNS-1035 "
                   "label (lower case letters, digits and '-', starting with a letter, at most "
                   "63 characters)")


def resources(container, kind):
    return ((container.get("resources") or {}).get(kind) or {}) if isinstance(container, dict) else {}


def option(args, name):
    """The value after `name` in an argument list, or None."""
    for i, arg in enumerate(args[:-1]):
        if arg == name:
            return args[i + 1]
    return None


def check_stilts(c, job, claims):
    """stilts' own rules for its GPU MPIJobs (launch/README.md)."""
    spec = job.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("mpiReplicaSpecs"), dict):
        return
    launcher = spec["mpiReplicaSpecs"].get("Launcher")
    worker = spec["mpiReplicaSpecs"].get("Worker")
    if not isinstance(launcher, dict) or not isinstance(worker, dict):
        c.fail("stilts-replicas", "a stilts job has a Launcher and Workers")
        return
    lc, wc = containers_of(launcher), containers_of(worker)
    if not lc or not wc or not isinstance(lc[0], dict) or not isinstance(wc[0], dict):
        return
    lc, wc = lc[0], wc[0]  # the operator runs the first container of each
    # One rank per GPU: slotsPerWorker = the worker's GPUs (mpi-operator's README sample
    # sets slots equal to GPUs per worker).
    gpus = resources(wc, "limits").get(GPU)
    slots = spec.get("slotsPerWorker", 1)
    if not is_int(gpus) or gpus < 1:
        c.fail("gpu-limits", f"the worker container must set resources.limits.{GPU} >= 1")
    elif slots != gpus:
        c.fail("slots-gpus", f"spec.slotsPerWorker is {slots} but each worker has {gpus} GPUs "
               f"({GPU}); one rank per GPU needs them equal")
    requested = resources(wc, "requests").get(GPU)
    if requested is not None and requested != gpus:
        c.fail("gpu-limits", f"the worker requests {requested} {GPU} but limits {gpus}; "
               "Kubernetes needs extended resources equal in both")
    if GPU in resources(lc, "limits") or GPU in resources(lc, "requests"):
        c.fail("launcher-no-gpu", "the launcher only runs mpirun and must not hold a GPU")
    if spec.get("runLauncherAsWorker"):
        c.fail("launcher-no-gpu", "runLauncherAsWorker would put ranks on the GPU-less launcher")
    if lc.get("image") != wc.get("image") or not lc.get("image"):
        c.fail("same-image", f"launcher image {lc.get('image')!r} and worker image "
               f"{wc.get('image')!r} must be the same (mpirun.sh and stilts on both sides)")

    # The shared volume: a PersistentVolumeClaim mounted at one path on both pods.
    def pvc_mounts(replica, container):
        volumes = {v.get("name"): v for v in replica["template"]["spec"].get("volumes") or []}
        mounts = {}
        for m in container.get("volumeMounts") or []:
            v = volumes.get(m.get("name")) or {}
            if "persistentVolumeClaim" in v:
                mounts[m.get("mountPath")] = v["persistentVolumeClaim"].get("claimName")
        return mounts, volumes
    l_mounts, _ = pvc_mounts(launcher, lc)
    w_mounts, w_volumes = pvc_mounts(worker, wc)
    shared = {p: claim for p, claim in l_mounts.items() if w_mounts.get(p) == claim}
    if not shared:
        c.fail("shared-volume", "no PersistentVolumeClaim is mounted at the same path on the "
               "launcher and the workers (data and checkpoints must be shared)")
    for path, claim in shared.items():
        if claim not in claims:
            c.fail("shared-volume", f"claim {claim!r} (mounted at {path}) is not defined by a "
                   "PersistentVolumeClaim in the files checked")
        elif "ReadWriteMany" not in (claims[claim].get("spec") or {}).get("accessModes", []):
            c.fail("shared-volume", f"claim {claim!r} must be ReadWriteMany: pods on several "
                   "nodes mount it")
    # /dev/shm: NCCL's shared-memory transport needs more than a container's 64 MiB.
    shm = [m for m in wc.get("volumeMounts") or [] if m.get("mountPath") == "/dev/shm"]
    if not shm or ((w_volumes.get(shm[0].get("name")) or {}).get("emptyDir") or {}).get(
            "medium") != "Memory":
        c.fail("dev-shm", "the worker must mount an emptyDir with medium: Memory at /dev/shm")
    # The launcher runs launch/mpirun.sh on the controller's hostfile, one rank per slot, in
    # the shared volume (so the run directory, relative to it, survives a restart).
    command = list(lc.get("command") or []) + list(lc.get("args") or [])
    if not command or not str(command[0]).endswith("launch/mpirun.sh"):
        c.fail("launcher-command", f"the launcher must run launch/mpirun.sh, not {command[:1]}")
        return
    args = [str(a) for a in command[1:]]
    if option(args, "--hostfile") != HOSTFILE:
        c.fail("launcher-command", f"mpirun.sh --hostfile must be {HOSTFILE}, the operator's")
    if option(args, "--gpus-per-node") not in (None, str(slots)):
        c.fail("launcher-command", f"mpirun.sh --gpus-per-node {option(args, '--gpus-per-node')} "
               f"differs from slotsPerWorker {slots}")
    tp = option(args, "--tp")
    if tp is not None and (not tp.isdigit() or int(tp) < 1 or slots % int(tp)):
        c.fail("launcher-command", f"mpirun.sh --tp {tp} must divide slotsPerWorker {slots}")
    if option(args, "--workdir") not in shared:
        c.fail("launcher-command", f"mpirun.sh --workdir {option(args, '--workdir')} must be the "
               f"shared volume's mount path ({', '.join(sorted(shared)) or 'none'})")


def check(paths):
    docs = {p: load(p) for p in paths}
    claims = {d["metadata"]["name"]: d for ds in docs.values() for d in ds
              if isinstance(d, dict) and d.get("kind") == "PersistentVolumeClaim"
              and isinstance(d.get("metadata"), dict) and "name" in d["metadata"]}
    errors = []
    for path, ds in docs.items():
        c = Checker(path)
        for job in mpijobs(ds):
            check_schema(c, job)
            check_validation(c, job)
            check_stilts(c, job, claims)
        errors += c.errors
        if not c.errors:
            print(f"ok: {path} ({len(mpijobs(ds))} MPIJob, {len(ds) - len(mpijobs(ds))} other)")
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


def the_job(path):
    jobs = mpijobs(load(path))
    if len(jobs) != 1:
        sys.exit(f"{path}: expected one MPIJob, found {len(jobs)}")
    return jobs[0]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    what, paths = argv[1], argv[2:]
    try:
        if what == "check":
            return check(paths)
        job = the_job(paths[0])
        spec = job["spec"]
        workers = spec["mpiReplicaSpecs"]["Worker"].get("replicas", 1)
        slots = spec.get("slotsPerWorker", 1)
        launcher = containers_of(spec["mpiReplicaSpecs"]["Launcher"])[0]
        if what == "hostfile":
            # mpi_job_controller.go, OpenMPI: "<job>-worker-i.<job>.<ns>.svc slots=<slots>".
            name, ns = job["metadata"]["name"], job["metadata"].get("namespace", "default")
            for i in range(workers):
                print(f"{name}-worker-{i}.{name}.{ns}.svc slots={slots}")
        elif what == "launcher":
            words = list(launcher.get("command") or []) + list(launcher.get("args") or [])
            sys.stdout.write("".join(f"{w}\0" for w in words))
        elif what == "env":
            for e in launcher.get("env") or []:
                print(f"{e['name']}={e.get('value', '')}")
        elif what == "layout":
            print(workers, slots)
        else:
            sys.exit(__doc__)
    except OSError as e:
        sys.exit(f"{e.filename}: {e.strerror}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
