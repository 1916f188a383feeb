// A bias-free linear layer y = x·Wᵀ with W in Hugging Face's [out, in] layout.
#pragma once

#include "core/layers/param_ref.h"
#include "kernels/ops.h"

namespace stilts {

struct Linear {
  ParamRef weight;

  int64_t out_features() const { return weight.value.dim(0); }
  void forward(const Tensor& x, Tensor& y) const { ops::matmul(x, false, weight.value, true, y); }
  // dx += dy·W, dW += dyᵀ·x.
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
    ops::matmul(dy, false, weight.value, false, dx, 1.0f, 1.0f);
    ops::matmul(dy, true, x, false, weight.grad, 1.0f, 1.0f);
  }
};

}  // namespace stilts
