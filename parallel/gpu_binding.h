// Which GPU a process binds to, one rank per GPU. Launchers place GPUs in two ways, and both must
// work: mpirun (or a node with several GPUs and several ranks) shows every rank all of the node's
// GPUs, and rank k takes the k-th by its node-local rank; Slurm's --gpus-per-task, Kubernetes'
// device plugin and `mpirun -x CUDA_VISIBLE_DEVICES=...` wrappers show each rank its own GPU
// alone (CUDA_VISIBLE_DEVICES), which is then device 0 whatever the rank. What must not happen is
// two ranks on one GPU, which runs but shares its memory and time without saying so.
#pragma once

namespace stilts {

struct GpuPlacement {
  int local_rank = 0;              // this process's rank among the ranks of its node
  int local_size = 1;              // the ranks on its node
  int visible_gpus = 0;            // the GPUs this process sees (cudaGetDeviceCount), >= 1
  bool launcher_assigned = false;  // CUDA_VISIBLE_DEVICES is set: the launcher chose them
};

// The device index to bind. The node's GPUs shared among its ranks (visible_gpus >= local_size):
// local_rank. Fewer GPUs than ranks: 0 where the launcher gave this process one GPU of its own
// (launcher_assigned, visible_gpus == 1); otherwise throws std::runtime_error naming the rank,
// the ranks and the GPUs, and the two ways to start the job right.
int gpu_of_rank(const GpuPlacement& placement);

// The placement from the environment: the node-local rank and size as OpenMPI
// (OMPI_COMM_WORLD_LOCAL_RANK, _LOCAL_SIZE) or MPICH (MPI_LOCALRANKID, MPI_LOCALNRANKS) name them
// (rank 0 of 1 outside a launcher), and whether CUDA_VISIBLE_DEVICES is set.
GpuPlacement gpu_placement_from_environment(int visible_gpus);

}  // namespace stilts
