// One pre-norm T5 block: self-attention, cross-attention (decoder only) and the gated FFN,
// each as h = h + dropout(sublayer(norm(h))).
//
// Recomputed activations (ForwardOptions::recompute_activations): the forward keeps only the
// block's inputs and its output (the next block's input) and drops the rest; the backward
// first reruns the forward from the inputs. Per block that drops, for sequence length L,
// heads H, width d, inner width (heads x d_kv) I and d_ff F, B examples: the normed inputs
// (2 or 3 of [B, L, d]), the residual stream between sublayers (1 or 2 of [B, L, d]), per
// attention q, k, v, context ([B, L, I] each) and the output ([B, L, d]) and the
// probabilities [B, H, L, L], and the FFN's gate, linear, hidden and dropped hidden ([B, L, F]
// each). What remains is one [B, L, d] per block plus one block's worth of those while it
// runs, for a third more compute (one extra forward). The rerun draws the same dropout masks
// (keys depend on seed, step, layer and site only) from the same inputs, so the gradients
// equal the stored-activation ones bit for bit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/layers/attention.h"
#include "core/layers/feed_forward.h"
#include "core/layers/rmsnorm.h"

namespace stilts {

// Where a block draws its dropout masks from; see dropout_stream() in kernels/philox.h. A
// tensor every TP rank holds whole (the residual stream) must get the same mask on every rank;
// one split over the ranks (attention probabilities by heads, the FFN hidden by d_ff) gets a
// stream per rank.
struct DropoutPlan {
  float rate = 0.0f;
  uint64_t seed = 0;
  int64_t step = 0;
  uint32_t tp_rank = 0;
  RngKey key(uint32_t layer, uint32_t site) const {
    return {seed, dropout_stream(static_cast<uint64_t>(step), layer, site, 0)};
  }
  RngKey sharded_key(uint32_t layer, uint32_t site) const {
    return {seed, dropout_stream(static_cast<uint64_t>(step), layer, site, tp_rank)};
  }
};

// A decoder block's key/value caches for incremental decoding.
struct BlockCache {
  KeyValueCache self, cross;
};

class Block {
 public:
  // Registers the block's parameters under prefix ("encoder.block.3"), in Hugging Face's order;
  // with holds_position_bias (the first block) also the stack's relative position bias table,
  // which Hugging Face keeps in that block's self-attention.
  static void declare(std::vector<ParamSpec>& specs, const std::string& prefix,
                      const ModelConfig& config, bool is_decoder, bool holds_position_bias);
  // The name of the table in the first block `prefix` of a stack.
  static std::string position_bias_name(const std::string& prefix);

  // prefix: "encoder.block.3" or "decoder.block.3"; layer_id: distinct per block of the model.
  // tp: the tensor-parallel group the block's sublayers are split over. residual_dtype: the
  // dtype of the residual stream (ModelNumerics in core/model.h), which the sublayers' outputs
  // are added into; the sublayers compute in the parameters' compute dtype.
  Block(Parameters& params, const std::string& prefix, bool is_decoder, uint32_t layer_id,
        Communicator& tp, DType residual_dtype);

  // h [B, L, d] and every other input are kept by reference until backward, which must see
  // them unchanged. The output is in the residual dtype, h in any floating dtype (incremental
  // decoding passes the embeddings as they are). encoder_out and encoder_mask are used only by
  // decoder blocks.
  // position_bias [H/tp, L, L] is the stack's shared bias for this rank's heads. recompute:
  // keep no activation but the inputs and the output (see above). cache: incremental decoding
  // (Attention::forward), which needs no encoder_out (the cache holds its keys and values) and
  // runs no backward.
  const Tensor& forward(const Tensor& h, const Tensor& position_bias, const Tensor& self_mask,
                        bool causal, const Tensor& encoder_out, const Tensor& encoder_mask,
                        const DropoutPlan& dropout, bool recompute, BlockCache* cache = nullptr);
  // Decoder blocks: the cross-attention keys and values of encoder_out into cache.cross.
  void project_memory(const Tensor& encoder_out, BlockCache& cache);
  // On entry dh (in the residual dtype) is the gradient of the block output; on return, of the
  // block input.
  // Accumulates dposition_bias and (decoder) this rank's partial dencoder_out (the
  // cross-attention's keys and values, Attention::backward).
  void backward(Tensor& dh, Tensor& dposition_bias, Tensor& dencoder_out);
  const Tensor& output() const { return out_; }  // of the last forward

 private:
  struct Inputs {
    Tensor h, position_bias, self_mask;
    bool causal = false;
    Tensor encoder_out, encoder_mask;
    BlockCache* cache = nullptr;
  };
  // The forward from inputs_ and dropout_, into out_.
  void run_forward();
  // h_out = h_in + dropout(sublayer_out).
  void residual_forward(const Tensor& h_in, const Tensor& sublayer_out, RngKey key,
                        Tensor& h_out) const;
  // Drops every activation and gradient buffer but the output.
  void release_activations();

  uint32_t layer_id_;
  // The residual stream's (after_self_, after_cross_, out_ and dh) and the sublayers' (their
  // normed inputs, their outputs and both gradients, dsublayer_ and dnormed_).
  DType residual_dtype_, compute_dtype_;
  // The debug scopes of the sublayers: "<prefix>.layer.0", ".layer.1", ".layer.2".
  std::string self_scope_, cross_scope_, ff_scope_;
  RMSNorm self_norm_;
  Attention self_attention_;
  std::optional<RMSNorm> cross_norm_;
  std::optional<Attention> cross_attention_;
  RMSNorm ff_norm_;
  FeedForward feed_forward_;
  DropoutPlan dropout_;
  Inputs inputs_;
  bool recompute_ = false;
  Tensor after_self_, after_cross_, out_;
  Tensor dsublayer_, dnormed_;
};

}  // namespace stilts
