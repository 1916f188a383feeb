#include "core/layers/feed_forward.h"

#include "parallel/tensor_parallel.h"

namespace stilts {

FeedForward::FeedForward(Parameters& params, const std::string& prefix, Communicator& tp)
    : tp_(tp),
      wi_0_{ParamRef::bind(params, prefix + ".wi_0.weight")},
      wi_1_{ParamRef::bind(params, prefix + ".wi_1.weight")},
      wo_{ParamRef::bind(params, prefix + ".wo.weight")} {}

const Tensor& FeedForward::forward(const Tensor& x, float dropout_rate, RngKey dropout_key) {
  x_ = x;
  dropout_rate_ = dropout_rate;
  dropout_key_ = dropout_key;
  Shape hidden_shape = x.shape();
  hidden_shape.back() = wi_0_.out_features();
  wi_0_.forward(x, ensure_like(gate_, hidden_shape, x));
  wi_1_.forward(x, ensure_like(linear_, hidden_shape, x));
  ops::gated_gelu_forward(gate_, linear_, ensure_like(hidden_, hidden_shape, x));
  ops::dropout_forward(hidden_, dropout_rate, dropout_key, ensure_like(dropped_, hidden_shape, x));
  Shape out_shape = x.shape();
  out_shape.back() = wo_.out_features();
  wo_.forward(dropped_, ensure_like(out_, out_shape, x));
  reduce_from_tp_forward(tp_, out_);
  return out_;
}

void FeedForward::backward(const Tensor& dout, Tensor& dx) {
  Tensor replicated = dout;
  reduce_from_tp_backward(tp_, replicated);
  ops::fill(ensure_like(ddropped_, hidden_.shape(), hidden_), 0.0f);
  wo_.backward(dropped_, replicated, ddropped_);
  ops::fill(ensure_like(dhidden_, hidden_.shape(), hidden_), 0.0f);
  ops::dropout_backward(ddropped_, dropout_rate_, dropout_key_, dhidden_);
  ops::fill(ensure_like(dgate_, gate_.shape(), gate_), 0.0f);
  ops::fill(ensure_like(dlinear_, linear_.shape(), linear_), 0.0f);
  ops::gated_gelu_backward(dhidden_, gate_, linear_, dgate_, dlinear_);
  wi_0_.backward(x_, dgate_, dx);
  wi_1_.backward(x_, dlinear_, dx);
}

void FeedForward::release_activations() {
  x_ = gate_ = linear_ = hidden_ = dropped_ = out_ = Tensor();
  ddropped_ = dhidden_ = dgate_ = dlinear_ = Tensor();
}

}  // namespace stilts
