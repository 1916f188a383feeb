// Fault injection for the failure tests: the environment variable
//
//   STILTS_INJECT_FAULT="rank=1,step=3,kind=exception"
//
// makes world rank 1 fail at the start of step 3 (the step number its caller passes to
// maybe_inject_fault), in one of these ways:
//   exception  throws std::runtime_error("injected fault: ...") (reaches abort_job)
//   abort      std::abort() (SIGABRT)
//   segv       raise(SIGSEGV)
//   kill       raise(SIGKILL), as `kill -9` from outside: no handler runs
//   hang       sleeps forever (for the NCCL timeout; MPI collectives have none)
// Keys may come in any order and all three are required. Unset or empty: no fault. A
// malformed value is an std::invalid_argument naming the variable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace stilts {

enum class FaultKind { exception, abort, segv, kill, hang };

struct FaultSpec {
  int rank = 0;
  int64_t step = 0;
  FaultKind kind = FaultKind::exception;
};

// Parses a value of STILTS_INJECT_FAULT; empty gives no fault.
std::optional<FaultSpec> parse_fault_spec(const std::string& text);

const char* fault_kind_name(FaultKind kind);

// At the start of every step: fails as STILTS_INJECT_FAULT says when world_rank and step match,
// otherwise returns. The variable is read and parsed on the first call.
void maybe_inject_fault(int world_rank, int64_t step);

}  // namespace stilts
