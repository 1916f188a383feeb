#include "core/layers/block.h"

#include "parallel/tensor_parallel.h"

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

}  // namespace

Block::Block(Parameters& params, const std::string& prefix, bool is_decoder, uint32_t layer_id,
             Communicator& tp)
    : tp_(tp),
      layer_id_(layer_id),
      num_heads_(params.config().num_heads / params.shard().size),
      self_norm_(params, prefix + ".layer.0.layer_norm.weight"),
      self_attention_(params, prefix + ".layer.0.SelfAttention", tp),
      ff_norm_(params, prefix + (is_decoder ? ".layer.2" : ".layer.1") + ".layer_norm.weight"),
      feed_forward_(params, prefix + (is_decoder ? ".layer.2" : ".layer.1") + ".DenseReluDense",
                    tp) {
  if (is_decoder) {
    cross_norm_.emplace(params, prefix + ".layer.1.layer_norm.weight");
    cross_attention_.emplace(params, prefix + ".layer.1.EncDecAttention", tp);
  }
}

void Block::residual_forward(const Tensor& h_in, const Tensor& sublayer_out, RngKey key,
                             Tensor& h_out) const {
  ensure_shape(h_out, h_in.shape());
  ops::dropout_forward(sublayer_out, dropout_.rate, key, h_out);
  ops::add_inplace(h_out, h_in);
}

const Tensor& Block::forward(const Tensor& h, const Tensor& position_bias, const Tensor& self_mask,
                             bool causal, const Tensor& encoder_out, const Tensor& encoder_mask,
                             const DropoutPlan& dropout) {
  dropout_ = dropout;
  const float rate = dropout.rate;
  const Tensor& normed = self_norm_.forward(h);
  const Tensor& attended = self_attention_.forward(
      normed, normed, position_bias, self_mask,
      {num_heads_, causal, rate, dropout.sharded_key(layer_id_, kSelfProbs)});
  residual_forward(h, attended, dropout.key(layer_id_, kSelfOut), after_self_);
  const Tensor* current = &after_self_;
  if (cross_attention_) {
    const Tensor& cross_normed = cross_norm_->forward(after_self_);
    const Tensor& crossed = cross_attention_->forward(
        cross_normed, encoder_out, Tensor(), encoder_mask,
        {num_heads_, false, rate, dropout.sharded_key(layer_id_, kCrossProbs)});
    residual_forward(after_self_, crossed, dropout.key(layer_id_, kCrossOut), after_cross_);
    current = &after_cross_;
  }
  const Tensor& ff_normed = ff_norm_.forward(*current);
  const Tensor& ff_out =
      feed_forward_.forward(ff_normed, rate, dropout.sharded_key(layer_id_, kFeedForwardHidden));
  residual_forward(*current, ff_out, dropout.key(layer_id_, kFeedForwardOut), out_);
  return out_;
}

void Block::backward(Tensor& dh, Tensor& dposition_bias, Tensor& dencoder_out) {
  ensure_shape(dsublayer_, dh.shape());
  ensure_shape(dnormed_, dh.shape());
  // Each sublayer: dh stays the residual path's gradient; the sublayer's contribution is
  // added onto it by the norm's backward, once the ranks' partial input gradients of the
  // column-parallel projections are summed (copy_to's backward).
  auto through_dropout = [&](uint32_t site) {
    ops::fill(dsublayer_, 0.0f);
    ops::dropout_backward(dh, dropout_.rate, dropout_.key(layer_id_, site), dsublayer_);
    ops::fill(dnormed_, 0.0f);
  };
  through_dropout(kFeedForwardOut);
  feed_forward_.backward(dsublayer_, dnormed_);
  copy_to_tp_backward(tp_, dnormed_);
  ff_norm_.backward(dnormed_, dh);
  if (cross_attention_) {
    through_dropout(kCrossOut);
    Tensor no_bias;
    cross_attention_->backward(dsublayer_, dnormed_, dencoder_out, no_bias);
    copy_to_tp_backward(tp_, dnormed_);
    cross_norm_->backward(dnormed_, dh);
  }
  through_dropout(kSelfOut);
  self_attention_.backward(dsublayer_, dnormed_, dnormed_, dposition_bias);
  copy_to_tp_backward(tp_, dnormed_);
  self_norm_.backward(dnormed_, dh);
}

}  // namespace stilts
