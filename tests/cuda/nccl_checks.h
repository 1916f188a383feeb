// What one rank of a NCCL test does (tests/cuda/nccl_worker.cc runs it in a process of its
// own, tests/cuda/test_nccl_cuda.cc in the test's): every collective of the interface on
// the world group and on two groups split off it, checked against the values each rank knows
// its peers hold. Returns an empty string when every check held, else what failed.
#pragma once

#include <string>

#include "parallel/nccl_communicator.h"

namespace stilts::test {

std::string check_nccl_collectives(NcclCommunicator& world);

// The unique id as hexadecimal text and back, to hand it to another process.
std::string unique_id_hex(const ncclUniqueId& id);
ncclUniqueId unique_id_from_hex(const std::string& hex);

}  // namespace stilts::test
