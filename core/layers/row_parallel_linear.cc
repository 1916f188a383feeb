#include "core/layers/row_parallel_linear.h"

#include "kernels/ops.h"
#include "parallel/tensor_parallel.h"

namespace stilts {

void RowParallelLinear::declare(std::vector<ParamSpec>& specs, const std::string& name, int64_t out,
                                int64_t in, float init_std) {
  specs.push_back({name, {out, in}, SplitAxis::cols, init_std});
}

RowParallelLinear::RowParallelLinear(Parameters& params, const std::string& name, Communicator& tp)
    : tp_(tp), weight_(ParamRef::bind(params, name)) {}

void RowParallelLinear::forward(const Tensor& x, Tensor& y) {
  ops::matmul(x, false, weight_.value, true, y);
  reduce_from_tp_forward(tp_, y);
}

void RowParallelLinear::backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  ops::matmul(dy, false, weight_.value, false, dx, 1.0f, 1.0f);
  ops::matmul(dy, true, x, false, weight_.grad, 1.0f, 1.0f);
}

}  // namespace stilts
