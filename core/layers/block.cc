#include "core/layers/block.h"

#include "core/layers/layer_scope.h"
#include "core/layers/relative_position_bias.h"

namespace stilts {
namespace {

// Dropout sites inside a block (the `site` field of the dropout stream).
enum Site : uint32_t {
  kSelfProbs = 0,
  kSelfOut = 1,
  kCrossProbs = 2,
  kCrossOut = 3,
  kFeedForwardHidden = 4,
  kFeedForwardOut = 5,
};

// The sublayers' names in Hugging Face's T5Block.
std::string self_scope(const std::string& prefix) {
  return prefix + ".layer.0";
}
std::string cross_scope(const std::string& prefix) {
  return prefix + ".layer.1";
}
std::string ff_scope(const std::string& prefix, bool is_decoder) {
  return prefix + (is_decoder ? ".layer.2" : ".layer.1");
}

}  // namespace

void Block::declare(std::vector<ParamSpec>& specs, const std::string& prefix,
                    const ModelConfig& config, bool is_decoder, bool holds_position_bias) {
  Attention::declare(specs, self_scope(prefix) + ".SelfAttention", config);
  if (holds_position_bias) RelativePositionBias::declare(specs, position_bias_name(prefix), config);
  RMSNorm::declare(specs, self_scope(prefix) + ".layer_norm.weight", config);
  if (is_decoder) {
    Attention::declare(specs, cross_scope(prefix) + ".EncDecAttention", config);
    RMSNorm::declare(specs, cross_scope(prefix) + ".layer_norm.weight", config);
  }
  FeedForward::declare(specs, ff_scope(prefix, is_decoder) + ".DenseReluDense", config);
  RMSNorm::declare(specs, ff_scope(prefix, is_decoder) + ".layer_norm.weight", config);
}

std::string Block::position_bias_name(const std::string& prefix) {
  return self_scope(prefix) + ".SelfAttention.relative_attention_bias.weight";
}

Block::Block(Parameters& params, const std::string& prefix, bool is_decoder, uint32_t layer_id,
             Communicator& tp, DType residual_dtype)
    : layer_id_(layer_id),
      residual_dtype_(residual_dtype),
      compute_dtype_(params.activation_dtype()),
      self_scope_(self_scope(prefix)),
      cross_scope_(is_decoder ? cross_scope(prefix) : std::string()),
      ff_scope_(ff_scope(prefix, is_decoder)),
      self_norm_(params, self_scope_ + ".layer_norm.weight"),
      self_attention_(params, self_scope_ + ".SelfAttention", Attention::Kind::self, tp),
      ff_norm_(params, ff_scope_ + ".layer_norm.weight"),
      feed_forward_(params, ff_scope_ + ".DenseReluDense", tp) {
  if (is_decoder) {
    cross_norm_.emplace(params, cross_scope_ + ".layer_norm.weight");
    cross_attention_.emplace(params, cross_scope_ + ".EncDecAttention", Attention::Kind::cross, tp);
  }
}

void Block::project_memory(const Tensor& encoder_out, BlockCache& cache) {
  cross_attention_.value().project_memory(encoder_out, cache.cross);
}

void Block::residual_forward(const Tensor& h_in, const Tensor& sublayer_out, RngKey key,
                             Tensor& h_out) const {
  ensure_shape(h_out, h_in.shape(), residual_dtype_, h_in.device());
  ops::dropout_forward(sublayer_out, dropout_.rate, key, h_out);
  ops::add_inplace(h_out, h_in);
}

const Tensor& Block::forward(const Tensor& h, const Tensor& position_bias, const Tensor& self_mask,
                             bool causal, const Tensor& encoder_out, const Tensor& encoder_mask,
                             const DropoutPlan& dropout, bool recompute, BlockCache* cache) {
  inputs_ = {h, position_bias, self_mask, causal, encoder_out, encoder_mask, cache};
  dropout_ = dropout;
  recompute_ = recompute;
  run_forward();
  if (recompute_) release_activations();
  return out_;
}

void Block::run_forward() {
  const Inputs& in = inputs_;
  const float rate = dropout_.rate;
  {
    LayerScope scope(self_scope_);
    const Tensor& normed = self_norm_.forward(in.h);
    const Tensor& attended = self_attention_.forward(
        normed, normed, in.position_bias, in.self_mask, in.causal, rate,
        dropout_.sharded_key(layer_id_, kSelfProbs), in.cache ? &in.cache->self : nullptr);
    residual_forward(in.h, attended, dropout_.key(layer_id_, kSelfOut), after_self_);
  }
  const Tensor* current = &after_self_;
  if (cross_attention_) {
    LayerScope scope(cross_scope_);
    const Tensor& cross_normed = cross_norm_->forward(after_self_);
    const Tensor& crossed = cross_attention_->forward(
        cross_normed, in.encoder_out, Tensor(), in.encoder_mask, false, rate,
        dropout_.sharded_key(layer_id_, kCrossProbs), in.cache ? &in.cache->cross : nullptr);
    residual_forward(after_self_, crossed, dropout_.key(layer_id_, kCrossOut), after_cross_);
    current = &after_cross_;
  }
  LayerScope scope(ff_scope_);
  const Tensor& ff_normed = ff_norm_.forward(*current);
  const Tensor& ff_out =
      feed_forward_.forward(ff_normed, rate, dropout_.sharded_key(layer_id_, kFeedForwardHidden));
  residual_forward(*current, ff_out, dropout_.key(layer_id_, kFeedForwardOut), out_);
}

void Block::backward(Tensor& dh, Tensor& dposition_bias, Tensor& dencoder_out) {
  if (recompute_) run_forward();
  ensure_shape(dsublayer_, dh.shape(), compute_dtype_, dh.device());
  ensure_shape(dnormed_, dh.shape(), compute_dtype_, dh.device());
  // Each sublayer: dh stays the residual path's gradient; the sublayer's contribution is
  // added onto it by the norm's backward, from the normed input's gradient, which the
  // sublayer's column-parallel projections leave summed over the TP group.
  auto through_dropout = [&](uint32_t site) {
    ops::fill(dsublayer_, 0.0f);
    ops::dropout_backward(dh, dropout_.rate, dropout_.key(layer_id_, site), dsublayer_);
    ops::fill(dnormed_, 0.0f);
  };
  {
    LayerScope scope(ff_scope_);
    through_dropout(kFeedForwardOut);
    feed_forward_.backward(dsublayer_, dnormed_);
    ff_norm_.backward(dnormed_, dh);
  }
  if (cross_attention_) {
    LayerScope scope(cross_scope_);
    through_dropout(kCrossOut);
    Tensor no_bias;
    cross_attention_->backward(dsublayer_, dnormed_, dencoder_out, no_bias);
    cross_norm_->backward(dnormed_, dh);
  }
  {
    LayerScope scope(self_scope_);
    through_dropout(kSelfOut);
    self_attention_.backward(dsublayer_, dnormed_, dnormed_, dposition_bias);
    self_norm_.backward(dnormed_, dh);
  }
  if (recompute_) release_activations();
}

void Block::release_activations() {
  self_norm_.release_activations();
  self_attention_.release_activations();
  if (cross_attention_) {
    cross_norm_->release_activations();
    cross_attention_->release_activations();
  }
  ff_norm_.release_activations();
  feed_forward_.release_activations();
  after_self_ = after_cross_ = dsublayer_ = dnormed_ = Tensor();
}

}  // namespace stilts
