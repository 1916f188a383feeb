// A tensor with a stable name, the unit in which optimizer state is saved and restored.
#pragma once

#include <string>

#include "kernels/tensor.h"

namespace stilts {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

}  // namespace stilts
