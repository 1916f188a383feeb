// A tensor with a stable name, the unit in which optimizer state is saved and restored.
#pragma once

#include <string>

#include "core/tensor_shard.h"
#include "kernels/tensor.h"

namespace stilts {

struct NamedTensor {
  std::string name;
  Tensor tensor;  // this rank's shard
  // How the tensor-parallel ranks split the full tensor (a moment of a rows-split parameter is
  // split by rows; Adafactor's row statistics of it too, its column statistics are
  // replicated), so a checkpoint can be loaded at another TP size.
  SplitAxis split = SplitAxis::none;
};

}  // namespace stilts
