// A layer's handle on one registry parameter, and the activation buffers layers reuse.
#pragma once

#include <string>

#include "core/params.h"
#include "kernels/tensor.h"

namespace stilts {

// The compute copy of the value (bf16 on the GPU, the f32 value itself on the CPU), which the
// layer computes with, and the f32 gradient it accumulates into.
struct ParamRef {
  Tensor value;
  Tensor grad;
  static ParamRef bind(Parameters& params, const std::string& name) {
    return {params.compute_value(name), params.grad(name)};
  }
};

// Activation buffers are reused across steps and reallocated only when the shape, dtype or
// device changes.
inline Tensor& ensure_shape(Tensor& t, const Shape& shape, DType dtype, Device device) {
  if (!t.defined() || t.shape() != shape || t.dtype() != dtype || t.device() != device)
    t = Tensor(shape, dtype, device);
  return t;
}

// The same with the dtype and device of `like`: an activation (or its gradient) follows the
// tensor it is computed from.
inline Tensor& ensure_like(Tensor& t, const Shape& shape, const Tensor& like) {
  return ensure_shape(t, shape, like.dtype(), like.device());
}

// A statistic (rstd, losses): f32 on the device of `like`.
inline Tensor& ensure_f32(Tensor& t, const Shape& shape, const Tensor& like) {
  return ensure_shape(t, shape, DType::f32, like.device());
}

}  // namespace stilts
