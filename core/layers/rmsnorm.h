// T5LayerNorm: RMSNorm without mean subtraction or bias, statistics in fp32. Every TP rank
// holds the whole weight and sees the same activations and gradients, so its gradient needs no
// reduction.
#pragma once

#include <string>
#include <vector>

#include "core/layers/param_ref.h"

namespace stilts {

class RMSNorm {
 public:
  // Registers the weight `name` [d_model], replicated, initialized to ones.
  static void declare(std::vector<ParamSpec>& specs, const std::string& name,
                      const ModelConfig& config);

  RMSNorm(Parameters& params, const std::string& name);
  // Saves x (by reference: the caller keeps it alive until backward) and the statistics. The
  // output is in the compute dtype, x in any floating dtype (an f32 residual stream).
  const Tensor& forward(const Tensor& x);
  // dx += d(out)/dx · dout, each in its own floating dtype; the weight gradient accumulates in
  // the registry.
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
