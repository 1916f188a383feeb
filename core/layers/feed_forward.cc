#include "core/layers/feed_forward.h"

#include <cmath>

namespace stilts {

void FeedForward::declare(std::vector<ParamSpec>& specs, const std::string& prefix,
                          const ModelConfig& c) {
  const float fd = static_cast<float>(c.d_model);
  ColumnParallelLinear::declare(specs, prefix + ".wi_0.weight", c.d_ff, c.d_model,
                                1.0f / std::sqrt(fd));
  ColumnParallelLinear::declare(specs, prefix + ".wi_1.weight", c.d_ff, c.d_model,
                                1.0f / std::sqrt(fd));
  RowParallelLinear::declare(specs, prefix + ".wo.weight", c.d_model, c.d_ff,
                             1.0f / std::sqrt(static_cast<float>(c.d_ff)));
}

FeedForward::FeedForward(Parameters& params, const std::string& prefix, Communicator& tp)
    : wi_(params, {prefix + ".wi_0.weight", prefix + ".wi_1.weight"}, tp),
      wo_(params, prefix + ".wo.weight", tp) {}

const Tensor& FeedForward::forward(const Tensor& x, float dropout_rate, RngKey dropout_key) {
  x_ = x;
  dropout_rate_ = dropout_rate;
  dropout_key_ = dropout_key;
  Shape hidden_shape = x.shape();
  hidden_shape.back() = wi_.out_features();
  wi_.forward(x, 0, ensure_like(gate_, hidden_shape, x));
  wi_.forward(x, 1, ensure_like(linear_, hidden_shape, x));
  ops::gated_gelu_forward(gate_, linear_, ensure_like(hidden_, hidden_shape, x));
  ops::dropout_forward(hidden_, dropout_rate, dropout_key, ensure_like(dropped_, hidden_shape, x));
  Shape out_shape = x.shape();
  out_shape.back() = wo_.out_features();
  wo_.forward(dropped_, ensure_like(out_, out_shape, x));
  return out_;
}

void FeedForward::backward(const Tensor& dout, Tensor& dx) {
  ops::fill(ensure_like(ddropped_, hidden_.shape(), hidden_), 0.0f);
  wo_.backward(dropped_, dout, ddropped_);
  ops::fill(ensure_like(dhidden_, hidden_.shape(), hidden_), 0.0f);
  ops::dropout_backward(ddropped_, dropout_rate_, dropout_key_, dhidden_);
  ops::fill(ensure_like(dgate_, gate_.shape(), gate_), 0.0f);
  ops::fill(ensure_like(dlinear_, linear_.shape(), linear_), 0.0f);
  ops::gated_gelu_backward(dhidden_, gate_, linear_, dgate_, dlinear_);
  wi_.backward(x_, {dgate_, dlinear_}, dx);
}

void FeedForward::release_activations() {
  x_ = gate_ = linear_ = hidden_ = dropped_ = out_ = Tensor();
  ddropped_ = dhidden_ = dgate_ = dlinear_ = Tensor();
}

}  // namespace stilts
