// The debug mode's checks (stilts train --debug): after every op, each floating tensor of the
// call is checked for NaN and Inf, and the first bad one is reported with the op and the
// layer that ran it. core/ names the layers with DebugScope; the kernels know only ops.
#pragma once

#include <span>
#include <string>

#include "kernels/tensor.h"

namespace stilts::ops {

// Also makes CUDA launches synchronous (device::set_synchronous), so a fault is reported by
// the op that caused it rather than by a later one, and poisons the temporaries that kernels
// allocate without zeros (Contents::unwritten), so a kernel that reads one before writing it
// gives NaN, which the checks then report.
void set_debug_checks(bool on);
bool debug_checks();

// Names the layer ("encoder.block.3.layer.0") for the checks made during its lifetime;
// scopes nest ("decoder > decoder.block.1.layer.1").
class DebugScope {
 public:
  explicit DebugScope(std::string name);
  ~DebugScope();
  DebugScope(const DebugScope&) = delete;
  DebugScope& operator=(const DebugScope&) = delete;
};

// Throws std::runtime_error "<op> in <scope>: argument <k> <tensor> holds NaN or Inf" for the
// first defined floating tensor that is not all finite.
void check_finite(const char* op, std::span<const Tensor* const> tensors);

}  // namespace stilts::ops
