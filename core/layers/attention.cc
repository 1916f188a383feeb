#include "core/layers/attention.h"

#include <cmath>

namespace stilts {
namespace {

std::vector<std::string> names(const std::string& prefix, std::vector<std::string> projections) {
  for (std::string& p : projections) p = prefix + "." + p + ".weight";
  return projections;
}

// cache [B, L, inner] grown by rows [B, n, inner] to [B, L + n, inner].
void append(Tensor& cache, const Tensor& rows) {
  const int64_t b = rows.dim(0), n = rows.dim(1), inner = rows.dim(2);
  const int64_t length = cache.defined() ? cache.dim(1) : 0;
  Tensor grown({b, length + n, inner}, rows.dtype(), rows.device());
  for (int64_t i = 0; i < b; ++i) {
    if (length > 0) {
      Tensor old_part = grown.slice(i * (length + n) * inner, {length * inner});
      ops::copy(cache.slice(i * length * inner, {length * inner}), old_part);
    }
    Tensor new_part = grown.slice((i * (length + n) + length) * inner, {n * inner});
    ops::copy(rows.slice(i * n * inner, {n * inner}), new_part);
  }
  cache = grown;
}

}  // namespace

void Attention::declare(std::vector<ParamSpec>& specs, const std::string& prefix,
                        const ModelConfig& c) {
  const int64_t d = c.d_model, inner = c.inner_dim();
  const float fd = static_cast<float>(d);
  ColumnParallelLinear::declare(specs, prefix + ".q.weight", inner, d,
                                1.0f / std::sqrt(fd * static_cast<float>(c.d_kv)));
  ColumnParallelLinear::declare(specs, prefix + ".k.weight", inner, d, 1.0f / std::sqrt(fd));
  ColumnParallelLinear::declare(specs, prefix + ".v.weight", inner, d, 1.0f / std::sqrt(fd));
  RowParallelLinear::declare(specs, prefix + ".o.weight", d, inner,
                             1.0f / std::sqrt(static_cast<float>(inner)));
}

Attention::Attention(Parameters& params, const std::string& prefix, Kind kind, Communicator& tp)
    : input_projection_(params,
                        names(prefix, kind == Kind::self ? std::vector<std::string>{"q", "k", "v"}
                                                         : std::vector<std::string>{"q"}),
                        tp),
      o_(params, prefix + ".o.weight", tp),
      num_heads_(input_projection_.out_features() / params.config().d_kv) {
  if (kind == Kind::cross)
    memory_projection_.emplace(params, names(prefix, {"k", "v"}), tp,
                               ColumnParallelLinear::InputGradient::partial);
}

const Tensor& Attention::forward(const Tensor& x, const Tensor& kv, const Tensor& bias,
                                 const Tensor& key_mask, bool causal, float dropout_rate,
                                 RngKey dropout_key, KeyValueCache* cache) {
  x_ = x;
  kv_ = kv;
  shape_ = {num_heads_, causal, dropout_rate, dropout_key};
  const int64_t batch = x.dim(0), q_len = x.dim(1);
  const int64_t inner = input_projection_.out_features();
  input_projection_.forward(x, 0, ensure_like(q_out_, {batch, q_len, inner}, x));
  const Tensor* keys = &k_out_;
  const Tensor* values = &v_out_;
  if (cache) {
    if (!memory_projection_) {
      project_keys_values(kv);
      append(cache->keys, k_out_);
      append(cache->values, v_out_);
    }
    keys = &cache->keys;
    values = &cache->values;
  } else {
    project_keys_values(kv);
  }
  const int64_t k_len = keys->dim(1);
  ensure_like(probs_, {batch, num_heads_, q_len, k_len}, x);
  ensure_like(context_, {batch, q_len, inner}, x);
  ops::attention_forward(q_out_, *keys, *values, bias, key_mask, shape_, probs_, context_);
  o_.forward(context_, ensure_like(out_, {batch, q_len, o_.out_features()}, x));
  return out_;
}

void Attention::project_keys_values(const Tensor& kv) {
  const int64_t batch = kv.dim(0), k_len = kv.dim(1);
  const int64_t inner = input_projection_.out_features();
  ColumnParallelLinear& memory = memory_projection_ ? *memory_projection_ : input_projection_;
  const size_t k_index = memory_projection_ ? 0 : 1;
  memory.forward(kv, k_index, ensure_like(k_out_, {batch, k_len, inner}, kv));
  memory.forward(kv, k_index + 1, ensure_like(v_out_, {batch, k_len, inner}, kv));
}

void Attention::project_memory(const Tensor& memory, KeyValueCache& cache) {
  const int64_t batch = memory.dim(0), k_len = memory.dim(1);
  const Shape shape{batch, k_len, input_projection_.out_features()};
  cache.keys = Tensor(shape, memory.dtype(), memory.device());
  cache.values = Tensor(shape, memory.dtype(), memory.device());
  memory_projection_.value().forward(memory, 0, cache.keys);
  memory_projection_.value().forward(memory, 1, cache.values);
}

void Attention::backward(const Tensor& dout, Tensor& dx, Tensor& dkv, Tensor& dbias) {
  ops::fill(ensure_like(dcontext_, context_.shape(), context_), 0.0f);
  o_.backward(context_, dout, dcontext_);
  ops::fill(ensure_like(dq_, q_out_.shape(), q_out_), 0.0f);
  ops::fill(ensure_like(dk_, k_out_.shape(), k_out_), 0.0f);
  ops::fill(ensure_like(dv_, v_out_.shape(), v_out_), 0.0f);
  ops::attention_backward(dcontext_, q_out_, k_out_, v_out_, probs_, shape_, dq_, dk_, dv_, dbias);
  if (memory_projection_) {
    input_projection_.backward(x_, {dq_}, dx);
    memory_projection_->backward(kv_, {dk_, dv_}, dkv);
  } else {
    input_projection_.backward(x_, {dq_, dk_, dv_}, dx);
  }
}

void Attention::release_activations() {
  x_ = kv_ = q_out_ = k_out_ = v_out_ = probs_ = context_ = out_ = Tensor();
  dq_ = dk_ = dv_ = dcontext_ = Tensor();
}

}  // namespace stilts
