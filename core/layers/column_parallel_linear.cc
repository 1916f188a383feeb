#include "core/layers/column_parallel_linear.h"

#include <stdexcept>

#include "kernels/ops.h"
#include "parallel/tensor_parallel.h"

namespace stilts {

void ColumnParallelLinear::declare(std::vector<ParamSpec>& specs, const std::string& name,
                                   int64_t out, int64_t in, float init_std) {
  specs.push_back({name, {out, in}, SplitAxis::rows, init_std});
}

ColumnParallelLinear::ColumnParallelLinear(Parameters& params,
                                           const std::vector<std::string>& names, Communicator& tp,
                                           InputGradient input_gradient)
    : tp_(tp), input_gradient_(input_gradient) {
  for (const std::string& name : names) weights_.push_back(ParamRef::bind(params, name));
}

void ColumnParallelLinear::forward(const Tensor& x, size_t i, Tensor& y) const {
  ops::matmul(x, false, weights_.at(i).value, true, y);
}

void ColumnParallelLinear::backward(const Tensor& x, const std::vector<Tensor>& dys, Tensor& dx) {
  if (dys.size() != weights_.size())
    throw std::invalid_argument("ColumnParallelLinear: " + std::to_string(dys.size()) +
                                " output gradients for " + std::to_string(weights_.size()) +
                                " weights");
  for (size_t i = 0; i < weights_.size(); ++i) {
    ops::matmul(dys[i], false, weights_[i].value, false, dx, 1.0f, 1.0f);
    ops::matmul(dys[i], true, x, false, weights_[i].grad, 1.0f, 1.0f);
  }
  if (input_gradient_ == InputGradient::summed) copy_to_tp_backward(tp_, dx);
}

}  // namespace stilts
