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
  q_.forward(x, ensure_shape(q_out_, {batch, q_len, inner}));
  k_.forward(kv, ensure_shape(k_out_, {batch, k_len, inner}));
  v_.forward(kv, ensure_shape(v_out_, {batch, k_len, inner}));
  ensure_shape(probs_, {batch, num_heads_, q_len, k_len});
  ensure_shape(context_, {batch, q_len, inner});
  ops::attention_forward(q_out_, k_out_, v_out_, bias, key_mask, shape, probs_, context_);
  o_.forward(context_, ensure_shape(out_, {batch, q_len, o_.out_features()}));
  reduce_from_tp_forward(tp_, out_);
  return out_;
}

void Attention::backward(const Tensor& dout, Tensor& dx, Tensor& dkv, Tensor& dbias) {
  Tensor replicated = dout;
  reduce_from_tp_backward(tp_, replicated);
  ops::fill(ensure_shape(dcontext_, context_.shape()), 0.0f);
  o_.backward(context_, replicated, dcontext_);
  ops::fill(ensure_shape(dq_, q_out_.shape()), 0.0f);
  ops::fill(ensure_shape(dk_, k_out_.shape()), 0.0f);
  ops::fill(ensure_shape(dv_, v_out_.shape()), 0.0f);
  ops::attention_backward(dcontext_, q_out_, k_out_, v_out_, probs_, shape_, dq_, dk_, dv_, dbias);
  q_.backward(x_, dq_, dx);
  k_.backward(kv_, dk_, dkv);
  v_.backward(kv_, dv_, dkv);
}

}  // namespace stilts
