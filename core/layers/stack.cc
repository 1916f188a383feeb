#include "core/layers/stack.h"

#include <stdexcept>
#include <string>

namespace stilts {
namespace {

// Layer ids for dropout streams: encoder blocks 0.., decoder blocks 2048.., and one id per
// stack for its embedding and final dropouts (the 12-bit layer field of dropout_stream).
constexpr uint32_t kDecoderLayerBase = 2048;
constexpr uint32_t kStackLayerBase = 4000;
enum StackSite : uint32_t { kEmbeddingOut = 6, kFinalOut = 7 };

}  // namespace

Stack::Stack(Parameters& params, const std::string& name, Communicator& tp)
    : is_decoder_(name == "decoder"),
      stack_id_(kStackLayerBase + (is_decoder_ ? 1 : 0)),
      config_(params.config()),
      num_heads_(config_.num_heads / params.shard().size),
      bias_table_(ParamRef::bind(
          params, name + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight")),
      final_norm_(params, name + ".final_layer_norm.weight") {
  const int64_t layers = is_decoder_ ? config_.num_decoder_layers : config_.num_layers;
  blocks_.reserve(layers);
  for (int64_t i = 0; i < layers; ++i)
    blocks_.emplace_back(params, name + ".block." + std::to_string(i), is_decoder_,
                         static_cast<uint32_t>(i) + (is_decoder_ ? kDecoderLayerBase : 0), tp);
}

const Tensor& Stack::forward(const Tensor& embedded, const Tensor& key_mask,
                             const Tensor& encoder_out, const Tensor& encoder_mask,
                             const DropoutPlan& dropout) {
  dropout_ = dropout;
  const int64_t len = embedded.dim(1);
  if (!buckets_.defined() || buckets_.dim(0) != len)
    buckets_ = ops::relative_position_buckets(len, len, 0, !is_decoder_,
                                              config_.relative_attention_num_buckets,
                                              config_.relative_attention_max_distance);
  ops::position_bias_forward(buckets_, bias_table_.value,
                             ensure_shape(position_bias_, {num_heads_, len, len}));

  ops::dropout_forward(embedded, dropout.rate, dropout.key(stack_id_, kEmbeddingOut),
                       ensure_shape(input_, embedded.shape()));
  const Tensor* h = &input_;
  for (Block& block : blocks_)
    h = &block.forward(*h, position_bias_, key_mask, is_decoder_, encoder_out, encoder_mask,
                       dropout);
  const Tensor& normed = final_norm_.forward(*h);
  ops::dropout_forward(normed, dropout.rate, dropout.key(stack_id_, kFinalOut),
                       ensure_shape(out_, normed.shape()));
  return out_;
}

void Stack::backward(const Tensor& dout, Tensor& dembedded, Tensor& dencoder_out) {
  ops::fill(ensure_shape(dnormed_, dout.shape()), 0.0f);
  ops::dropout_backward(dout, dropout_.rate, dropout_.key(stack_id_, kFinalOut), dnormed_);
  ops::fill(ensure_shape(dh_, dout.shape()), 0.0f);
  final_norm_.backward(dnormed_, dh_);
  ops::fill(ensure_shape(dposition_bias_, position_bias_.shape()), 0.0f);
  for (auto it = blocks_.rbegin(); it != blocks_.rend(); ++it)
    it->backward(dh_, dposition_bias_, dencoder_out);
  // Every layer's bias gradient has been summed into one [H, L, L] buffer, so the shared
  // table receives the sum over layers in a single scatter.
  ops::position_bias_backward(buckets_, dposition_bias_, bias_table_.grad);
  ops::dropout_backward(dh_, dropout_.rate, dropout_.key(stack_id_, kEmbeddingOut), dembedded);
}

const Tensor& Stack::hidden_state(int64_t i) const {
  const auto layers = static_cast<int64_t>(blocks_.size());
  if (i < 0 || i > layers)
    throw std::out_of_range("hidden state " + std::to_string(i) + " of a stack of " +
                            std::to_string(layers) + " layers (0 to " + std::to_string(layers) +
                            ")");
  if (i == 0) return input_;
  if (i == layers) return out_;
  return blocks_[i - 1].output();
}

}  // namespace stilts
