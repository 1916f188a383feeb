// T5DenseGatedActDense: wo( dropout( gelu_new(wi_0 x) * (wi_1 x) ) ).
//
// Tensor parallel (Megatron): wi_0 and wi_1 form one column-parallel layer (this rank's slice
// of d_ff, and the input gradient summed over the TP group once), wo is row-parallel (the
// output summed over the group).
#pragma once

#include <string>
#include <vector>

#include "core/layers/column_parallel_linear.h"
#include "core/layers/row_parallel_linear.h"
#include "kernels/ops.h"

namespace stilts {

class FeedForward {
 public:
  // Registers wi_0, wi_1 and wo under prefix (e.g. "encoder.block.0.layer.1.DenseReluDense").
  static void declare(std::vector<ParamSpec>& specs, const std::string& prefix,
                      const ModelConfig& config);

  FeedForward(Parameters& params, const std::string& prefix, Communicator& tp);

  // x [N, d] is kept by reference until backward. dropout_key draws this rank's slice of the
  // hidden activations.
  const Tensor& forward(const Tensor& x, float dropout_rate, RngKey dropout_key);
  // dx += d(out)/dx · dout, summed over the TP group; dx must hold no other gradient yet
  // (ColumnParallelLinear::backward).
  void backward(const Tensor& dout, Tensor& dx);
  // Drops every saved activation and gradient buffer (recomputed activations).
  void release_activations();

 private:
  ColumnParallelLinear wi_;  // wi_0 (the gate), wi_1 (the linear part)
  RowParallelLinear wo_;
  float dropout_rate_ = 0.0f;
  RngKey dropout_key_{};
  Tensor x_, gate_, linear_, hidden_, dropped_, out_;
  Tensor ddropped_, dhidden_, dgate_, dlinear_;
};

}  // namespace stilts
