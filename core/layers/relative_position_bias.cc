#include "core/layers/relative_position_bias.h"

#include <cmath>

#include "kernels/ops.h"

namespace stilts {

void RelativePositionBias::declare(std::vector<ParamSpec>& specs, const std::string& name,
                                   const ModelConfig& c) {
  specs.push_back({name,
                   {c.relative_attention_num_buckets, c.num_heads},
                   SplitAxis::cols,
                   1.0f / std::sqrt(static_cast<float>(c.d_model))});
}

RelativePositionBias::RelativePositionBias(Parameters& params, const std::string& name,
                                           bool bidirectional)
    : table_(ParamRef::bind(params, name)),
      bidirectional_(bidirectional),
      num_buckets_(static_cast<int>(params.config().relative_attention_num_buckets)),
      max_distance_(static_cast<int>(params.config().relative_attention_max_distance)) {}

const Tensor& RelativePositionBias::forward(int64_t q_len, int64_t k_len, int64_t q_offset) {
  // The buckets depend on the positions alone: a training step of the same lengths reuses them.
  if (!buckets_.defined() || buckets_.dim(0) != q_len || buckets_.dim(1) != k_len ||
      q_offset_ != q_offset) {
    buckets_ = ops::relative_position_buckets(q_len, k_len, q_offset, bidirectional_, num_buckets_,
                                              max_distance_)
                   .to(table_.value.device());
    q_offset_ = q_offset;
  }
  ops::position_bias_forward(buckets_, table_.value,
                             ensure_like(bias_, {num_heads(), q_len, k_len}, table_.value));
  return bias_;
}

void RelativePositionBias::backward(const Tensor& dbias) {
  ops::position_bias_backward(buckets_, dbias, table_.grad);
}

}  // namespace stilts
