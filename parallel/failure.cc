#include "parallel/failure.h"

#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace stilts {
namespace {

// Written by install_failure_handlers before any handler can run, read by the handlers.
int g_rank = 0;
int g_size = 1;
char g_prefix[64] = "stilts: rank ? of ?: ";

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM};
constexpr int kSignalCount = sizeof kSignals / sizeof kSignals[0];
// The actions before ours (OpenMPI's MPI_Init installs one that prints a backtrace for
// SIGSEGV, SIGBUS, SIGFPE and SIGABRT), chained to after our message.
struct sigaction g_previous[kSignalCount];

const char* signal_name(int signal) {
  switch (signal) {
    case SIGSEGV:
      return "SIGSEGV (segmentation fault)";
    case SIGBUS:
      return "SIGBUS (bus error)";
    case SIGFPE:
      return "SIGFPE (arithmetic exception)";
    case SIGILL:
      return "SIGILL (illegal instruction)";
    case SIGABRT:
      return "SIGABRT (abort)";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "an unexpected signal";
  }
}

void write_all(const char* text, size_t length) {
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<size_t>(written);
  }
}

// Appends text to line[used..] as far as it fits; returns the new length.
size_t append(char* line, size_t used, size_t capacity, const char* text) {
  for (; *text != '\0' && used < capacity; ++text) line[used++] = *text;
  return used;
}

// Async-signal-safe: the line is assembled on the stack and written with one write(2), which
// stderr's pipe keeps whole (under PIPE_BUF bytes), so another rank's output cannot land in the
// middle of it (as it did between the prefix and the signal's name, written separately).
void on_fatal_signal(int signal) {
  char line[256];
  const size_t capacity = sizeof line - 1;
  size_t used = append(line, 0, capacity, g_prefix);
  used = append(line, used, capacity, signal == SIGTERM ? "stopped by " : "killed by signal ");
  used = append(line, used, capacity, signal_name(signal));
  if (signal == SIGTERM) used = append(line, used, capacity, " (the job is being ended)");
  line[used++] = '\n';
  write_all(line, used);
  // The previous action (OpenMPI's backtrace, which then dies by the signal) or the default:
  // dying by the signal lets mpirun (or the shell) see it.
  for (int i = 0; i < kSignalCount; ++i) {
    if (kSignals[i] != signal) continue;
    if (g_previous[i].sa_handler == SIG_IGN || g_previous[i].sa_handler == on_fatal_signal) {
      struct sigaction fallback;
      std::memset(&fallback, 0, sizeof fallback);
      fallback.sa_handler = SIG_DFL;
      sigaction(signal, &fallback, nullptr);
    } else {
      sigaction(signal, &g_previous[i], nullptr);
    }
  }
  raise(signal);
}

void on_terminate() {
  std::string reason = "uncaught exception";
  if (std::exception_ptr current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& error) {
      reason += ": " + std::string(error.what());
    } catch (...) {
      reason += " of a type not derived from std::exception";
    }
  } else {
    reason = "std::terminate called without an exception";
  }
  abort_job(g_rank, g_size, reason);
}

}  // namespace

void install_failure_handlers(int world_rank, int world_size) {
  g_rank = world_rank;
  g_size = world_size;
  std::snprintf(g_prefix, sizeof g_prefix, "stilts: rank %d of %d: ", world_rank, world_size);
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int i = 0; i < kSignalCount; ++i) sigaction(kSignals[i], &action, &g_previous[i]);
  std::set_terminate(on_terminate);
}

void abort_job(int world_rank, int world_size, const std::string& reason) {
  std::fflush(stdout);
  std::fprintf(stderr, "stilts: rank %d of %d failed: %s; aborting the job\n", world_rank,
               world_size, reason.c_str());
  std::fflush(stderr);
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

}  // namespace stilts
