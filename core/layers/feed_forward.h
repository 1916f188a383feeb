// T5DenseGatedActDense: wo( dropout( gelu_new(wi_0 x) * (wi_1 x) ) ).
//
// Tensor parallel (Megatron): wi_0 and wi_1 are column-parallel (this rank's slice of d_ff),
// wo row-parallel, so the output is all-reduced over the TP group and dx is a partial sum the
// caller all-reduces (see attention.h).
#pragma once

#include "core/layers/linear.h"
#include "kernels/ops.h"
#include "parallel/communicator.h"

namespace stilts {

class FeedForward {
 public:
  // prefix: e.g. "encoder.block.0.layer.1.DenseReluDense".
  FeedForward(Parameters& params, const std::string& prefix, Communicator& tp);

  // x [N, d] is kept by reference until backward. dropout_key draws this rank's slice of the
  // hidden activations.
  const Tensor& forward(const Tensor& x, float dropout_rate, RngKey dropout_key);
  // dx += this rank's partial d(out)/dx · dout.
  void backward(const Tensor& dout, Tensor& dx);
  // Drops every saved activation and gradient buffer (recomputed activations).
  void release_activations();

 private:
  Communicator& tp_;
  Linear wi_0_, wi_1_, wo_;
  float dropout_rate_ = 0.0f;
  RngKey dropout_key_{};
  Tensor x_, gate_, linear_, hidden_, dropped_, out_;
  Tensor ddropped_, dhidden_, dgate_, dlinear_;
};

}  // namespace stilts
