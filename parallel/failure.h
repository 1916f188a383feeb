// Ending the whole job when one rank fails, with a message naming the rank and the reason.
//
// Without this, a rank that dies leaves the others waiting in their next collective. The rules:
// - an exception that reaches the top of a rank's program goes to abort_job, which prints
//   "stilts: rank R of N failed: <reason>; aborting the job" and calls MPI_Abort, which ends
//   every rank (mpirun adds "MPI_ABORT was invoked on rank R ... errorcode 1");
// - a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM) prints
//   "stilts: rank R of N: killed by signal SIGSEGV" from the handler (write(2) only) and then
//   re-raises the signal with its default action, so the process dies by that signal. MPI_Abort
//   is not async-signal-safe (a SIGSEGV inside malloc or MPI itself would deadlock it); a rank
//   dying by a signal is handled by mpirun like SIGKILL below;
// - an uncaught exception (std::terminate) prints "stilts: rank R of N failed: uncaught
//   exception: <what>" and calls abort_job;
// - SIGKILL cannot be caught: OpenMPI's mpirun notices that the process is gone, kills every
//   other rank (SIGCONT, SIGTERM, then SIGKILL) and prints "mpirun noticed that process rank R
//   with PID P on node H exited on signal 9 (Killed)." with a non-zero exit status. It does the
//   same for a rank ended by any other signal, or that exits without MPI_Finalize.
// SIGTERM also arrives at the surviving ranks when mpirun tears the job down; those print
// "stilts: rank R of N: stopped by SIGTERM (the job is being ended)" after the failing rank's
// message.
//
// NCCL collectives on a dead peer do not end on their own: NcclCommunicator times them out
// (STILTS_NCCL_TIMEOUT) and throws, which reaches abort_job.
#pragma once

#include <string>

namespace stilts {

// Installs the signal handlers and the std::terminate handler for this process. Call once,
// right after MPI is initialized (MpiSession), with the world rank and size.
void install_failure_handlers(int world_rank, int world_size);

// Prints "stilts: rank R of N failed: <reason>; aborting the job" on stderr and ends every rank
// of the job: MPI_Abort(MPI_COMM_WORLD, 1), or exit status 1 when MPI is not (or no longer)
// initialized.
[[noreturn]] void abort_job(int world_rank, int world_size, const std::string& reason);

}  // namespace stilts
