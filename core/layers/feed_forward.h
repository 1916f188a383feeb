// T5DenseGatedActDense: wo( dropout( gelu_new(wi_0 x) * (wi_1 x) ) ).
#pragma once

#include "core/layers/linear.h"
#include "kernels/ops.h"

namespace stilts {

class FeedForward {
 public:
  // prefix: e.g. "encoder.block.0.layer.1.DenseReluDense".
  FeedForward(Parameters& params, const std::string& prefix);

  // x [N, d] is kept by reference until backward.
  const Tensor& forward(const Tensor& x, float dropout_rate, RngKey dropout_key);
  // dx += d(out)/dx · dout.
  void backward(const Tensor& dout, Tensor& dx);

 private:
  Linear wi_0_, wi_1_, wo_;
  float dropout_rate_ = 0.0f;
  RngKey dropout_key_{};
  Tensor x_, gate_, linear_, hidden_, dropped_, out_;
  Tensor ddropped_, dhidden_, dgate_, dlinear_;
};

}  // namespace stilts
