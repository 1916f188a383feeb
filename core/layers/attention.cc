#include "core/layers/attention.h"

#include "parallel/tensor_parallel.h"

namespace stilts {

Attention::Attention(Parameters& params, const std::string& prefix, Communicator& tp)
    : tp_(tp),
      q_{ParamRef::bind(params, prefix + ".q.weight")},
      k_{ParamRef::bind(params, prefix + ".k.weight")},
      v_{ParamRef::bind(params, prefix + ".v.weight")},
      o_{ParamRef::bind(params, prefix + ".o.weight")},
      num_heads_(params.config().num_heads / params.shard().size) {}

const Tensor& Attention::forward(const Tensor& x, const Tensor& kv, const Tensor& bias,
                                 const Tensor& key_mask, const ops::AttentionShape& shape) {
  x_ = x;
  kv_ = kv;
  shape_ = shape;
  const int64_t batch = x.dim(0), q_len = x.dim(1), k_len = kv.dim(1);
  const int64_t inner = q_.out_features();
  q_.forward(x, ensure_like(q_out_, {batch, q_len, inner}, x));
  k_.forward(kv, ensure_like(k_out_, {batch, k_len, inner}, kv));
  v_.forward(kv, ensure_like(v_out_, {batch, k_len, inner}, kv));
  ensure_like(probs_, {batch, num_heads_, q_len, k_len}, x);
  ensure_like(context_, {batch, q_len, inner}, x);
  ops::attention_forward(q_out_, k_out_, v_out_, bias, key_mask, shape, probs_, context_);
  o_.forward(context_, ensure_like(out_, {batch, q_len, o_.out_features()}, x));
  reduce_from_tp_forward(tp_, out_);
  return out_;
}

void Attention::backward(const Tensor& dout, Tensor& dx, Tensor& dkv, Tensor& dbias) {
  Tensor replicated = dout;
  reduce_from_tp_backward(tp_, replicated);
  ops::fill(ensure_like(dcontext_, context_.shape(), context_), 0.0f);
  o_.backward(context_, replicated, dcontext_);
  ops::fill(ensure_like(dq_, q_out_.shape(), q_out_), 0.0f);
  ops::fill(ensure_like(dk_, k_out_.shape(), k_out_), 0.0f);
  ops::fill(ensure_like(dv_, v_out_.shape(), v_out_), 0.0f);
  ops::attention_backward(dcontext_, q_out_, k_out_, v_out_, probs_, shape_, dq_, dk_, dv_, dbias);
  q_.backward(x_, dq_, dx);
  k_.backward(kv_, dk_, dkv);
  v_.backward(kv_, dv_, dkv);
}

void Attention::release_activations() {
  x_ = kv_ = q_out_ = k_out_ = v_out_ = probs_ = context_ = out_ = Tensor();
  dq_ = dk_ = dv_ = dcontext_ = Tensor();
}

}  // namespace stilts
