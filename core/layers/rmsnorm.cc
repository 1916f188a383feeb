#include "core/layers/rmsnorm.h"

#include "kernels/ops.h"

namespace stilts {

void RMSNorm::declare(std::vector<ParamSpec>& specs, const std::string& name,
                      const ModelConfig& c) {
  specs.push_back({name, {c.d_model}, SplitAxis::none, 1.0f, true});
}

RMSNorm::RMSNorm(Parameters& params, const std::string& name)
    : weight_(ParamRef::bind(params, name)),
      eps_(static_cast<float>(params.config().layer_norm_epsilon)) {}

const Tensor& RMSNorm::forward(const Tensor& x) {
  x_ = x;
  // The output feeds the sublayer's matmuls: the compute dtype (the weight's compute copy's),
  // whichever dtype the residual stream x has.
  ensure_shape(out_, x.shape(), weight_.value.dtype(), x.device());
  ensure_f32(rstd_, {x.numel() / x.dim(-1)}, x);
  ops::rmsnorm_forward(x, weight_.value, eps_, out_, rstd_);
  return out_;
}

void RMSNorm::backward(const Tensor& dout, Tensor& dx) {
  ops::rmsnorm_backward(dout, x_, weight_.value, rstd_, dx, weight_.grad);
}

void RMSNorm::release_activations() {
  x_ = out_ = rstd_ = Tensor();
}

}  // namespace stilts
