#include "core/layers/stack.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/layers/layer_scope.h"

namespace stilts {
namespace {

// Layer ids for dropout streams: encoder blocks 0.., decoder blocks 2048.., and one id per
// stack for its embedding and final dropouts (the 12-bit layer field of dropout_stream).
constexpr uint32_t kDecoderLayerBase = 2048;
constexpr uint32_t kStackLayerBase = 4000;
enum StackSite : uint32_t { kEmbeddingOut = 6, kFinalOut = 7 };

std::string block_prefix(const std::string& stack, int64_t i) {
  return stack + ".block." + std::to_string(i);
}

int64_t stack_layers(const ModelConfig& c, const std::string& stack) {
  return stack == "decoder" ? c.num_decoder_layers : c.num_layers;
}

// x [E, ...] -> [rows.size(), ...]: row r is a copy of x's row rows[r]. A lookup of whole rows
// by index is what the embedding op does, in one call on any device.
Tensor select_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  const int64_t n = static_cast<int64_t>(rows.size()), row_size = x.numel() / x.dim(0);
  Tensor ids({n}, DType::i32);
  std::transform(rows.begin(), rows.end(), ids.data<int32_t>(),
                 [](int64_t row) { return static_cast<int32_t>(row); });
  Shape shape = x.shape();
  shape[0] = n;
  Tensor out(shape, x.dtype(), x.device());
  Tensor table_rows = out.reshape({n, row_size});
  ops::embedding_forward(ids.to(x.device()), x.reshape({x.dim(0), row_size}), table_rows);
  return out;
}

}  // namespace

void Stack::declare(std::vector<ParamSpec>& specs, const std::string& name,
                    const ModelConfig& config) {
  for (int64_t i = 0; i < stack_layers(config, name); ++i)
    Block::declare(specs, block_prefix(name, i), config, name == "decoder", i == 0);
  RMSNorm::declare(specs, name + ".final_layer_norm.weight", config);
}

Stack::Stack(Parameters& params, const std::string& name, Communicator& tp, DType residual_dtype)
    : name_(name),
      is_decoder_(name == "decoder"),
      residual_dtype_(residual_dtype),
      stack_id_(kStackLayerBase + (is_decoder_ ? 1 : 0)),
      position_bias_(params, Block::position_bias_name(block_prefix(name, 0)), !is_decoder_),
      final_norm_(params, name + ".final_layer_norm.weight"),
      final_norm_index_(params.index_of(name + ".final_layer_norm.weight")),
      bias_table_index_(params.index_of(Block::position_bias_name(block_prefix(name, 0)))) {
  const int64_t layers = stack_layers(params.config(), name);
  blocks_.reserve(layers);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string prefix = block_prefix(name, i);
    blocks_.emplace_back(params, prefix, is_decoder_,
                         static_cast<uint32_t>(i) + (is_decoder_ ? kDecoderLayerBase : 0), tp,
                         residual_dtype);
    block_first_index_.push_back(params.index_of(prefix + ".layer.0.SelfAttention.q.weight"));
  }
}

const Tensor& Stack::forward(const Tensor& embedded, const Tensor& key_mask,
                             const Tensor& encoder_out, const Tensor& encoder_mask,
                             const DropoutPlan& dropout, bool recompute) {
  LayerScope scope(name_);
  dropout_ = dropout;
  const int64_t len = embedded.dim(1);
  const Tensor& position_bias = position_bias_.forward(len, len, 0);

  // The residual stream starts here: the embeddings dropped out into its dtype.
  ops::dropout_forward(embedded, dropout.rate, dropout.key(stack_id_, kEmbeddingOut),
                       ensure_shape(input_, embedded.shape(), residual_dtype_, embedded.device()));
  const Tensor* h = &input_;
  for (Block& block : blocks_)
    h = &block.forward(*h, position_bias, key_mask, is_decoder_, encoder_out, encoder_mask, dropout,
                       recompute);
  const Tensor& normed = final_norm_.forward(*h);
  ops::dropout_forward(normed, dropout.rate, dropout.key(stack_id_, kFinalOut),
                       ensure_like(out_, normed.shape(), normed));
  return out_;
}

DecoderCache Stack::start_decoding(const Tensor& encoder_out, const Tensor& encoder_mask,
                                   const std::vector<int64_t>& rows) {
  DecoderCache cache;
  cache.blocks.resize(blocks_.size());
  cache.encoder_mask = rows.empty() ? encoder_mask : select_rows(encoder_mask, rows);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    blocks_[i].project_memory(encoder_out, cache.blocks[i]);
    KeyValueCache& cross = cache.blocks[i].cross;
    // Each encoding's keys and values are projected once, then shared by its rows.
    if (rows.empty()) continue;
    cross.keys = select_rows(cross.keys, rows);
    cross.values = select_rows(cross.values, rows);
  }
  return cache;
}

const Tensor& Stack::decode(const Tensor& embedded, DecoderCache& cache) {
  LayerScope scope(name_);
  const int64_t position = cache.position++;
  const Tensor& position_bias = position_bias_.forward(1, position + 1, position);
  // The one query is the last position, so attending to every cached key is causal. Without
  // dropout the embeddings enter the first block as they are, which adds them into the residual
  // dtype.
  const Tensor* h = &embedded;
  for (size_t i = 0; i < blocks_.size(); ++i)
    h = &blocks_[i].forward(*h, position_bias, Tensor(), false, Tensor(), cache.encoder_mask,
                            DropoutPlan{}, false, &cache.blocks[i]);
  return final_norm_.forward(*h);
}

void Stack::backward(const Tensor& dout, Tensor& dembedded, Tensor& dencoder_out,
                     const GradientsReady& ready) {
  LayerScope scope(name_);
  auto report = [&](size_t first_final_index) {
    if (ready) ready(first_final_index);
  };
  ops::fill(ensure_like(dnormed_, dout.shape(), dout), 0.0f);
  ops::dropout_backward(dout, dropout_.rate, dropout_.key(stack_id_, kFinalOut), dnormed_);
  ops::fill(ensure_shape(dh_, dout.shape(), residual_dtype_, dout.device()), 0.0f);
  final_norm_.backward(dnormed_, dh_);
  report(final_norm_index_);
  // f32 on every device: every layer adds into it, and bf16 would round each addition.
  const int64_t len = dout.dim(1);
  ops::fill(ensure_f32(dposition_bias_, {position_bias_.num_heads(), len, len}, dout), 0.0f);
  for (size_t i = blocks_.size(); i-- > 0;) {
    blocks_[i].backward(dh_, dposition_bias_, dencoder_out);
    // Block 0's parameters after the bias table are final; the table waits for the scatter.
    report(i == 0 ? bias_table_index_ + 1 : block_first_index_[i]);
  }
  // Every layer's bias gradient has been summed into one [H, L, L] buffer, so the shared
  // table receives the sum over layers in a single scatter.
  position_bias_.backward(dposition_bias_);
  report(block_first_index_[0]);
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
