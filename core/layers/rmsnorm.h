// T5LayerNorm: RMSNorm without mean subtraction or bias, statistics in fp32.
#pragma once

#include "core/layers/param_ref.h"

namespace stilts {

class RMSNorm {
 public:
  RMSNorm(Parameters& params, const std::string& name);
  // Saves x (by reference: the caller keeps it alive until backward) and the statistics.
  const Tensor& forward(const Tensor& x);
  // dx += d(out)/dx · dout; the weight gradient accumulates in the registry.
  void backward(const Tensor& dout, Tensor& dx);
  const Tensor& output() const { return out_; }
  // Drops the saved input, output and statistics (recomputed activations).
  void release_activations();

 private:
  ParamRef weight_;
  float eps_;
  Tensor x_, out_, rstd_;
};

}  // namespace stilts
