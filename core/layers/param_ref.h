// A layer's handle on one registry parameter: views of its value and its gradient.
#pragma once

#include <string>

#include "core/params.h"
#include "kernels/tensor.h"

namespace stilts {

struct ParamRef {
  Tensor value;
  Tensor grad;
  static ParamRef bind(Parameters& params, const std::string& name) {
    return {params.value(name), params.grad(name)};
  }
};

// Activation buffers are reused across steps and reallocated only when the shape changes.
inline Tensor& ensure_shape(Tensor& t, const Shape& shape, DType dtype = DType::f32) {
  if (!t.defined() || t.shape() != shape || t.dtype() != dtype) t = Tensor(shape, dtype);
  return t;
}

}  // namespace stilts
