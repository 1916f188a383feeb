// One pre-norm T5 block: self-attention, cross-attention (decoder only) and the gated FFN,
// each as h = h + dropout(sublayer(norm(h))).
#pragma once

#include <optional>

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

class Block {
 public:
  // prefix: "encoder.block.3" or "decoder.block.3"; layer_id: distinct per block of the model.
  // tp: the tensor-parallel group the block's sublayers are split over.
  Block(Parameters& params, const std::string& prefix, bool is_decoder, uint32_t layer_id,
        Communicator& tp);

  // h [B, L, d] is kept by reference until backward. encoder_out and encoder_mask are used
  // only by decoder blocks. position_bias [H/tp, L, L] is the stack's shared bias for this
  // rank's heads.
  const Tensor& forward(const Tensor& h, const Tensor& position_bias, const Tensor& self_mask,
                        bool causal, const Tensor& encoder_out, const Tensor& encoder_mask,
                        const DropoutPlan& dropout);
  // On entry dh is the gradient of the block output; on return, of the block input.
  // Accumulates dposition_bias and (decoder) this rank's partial dencoder_out.
  void backward(Tensor& dh, Tensor& dposition_bias, Tensor& dencoder_out);
  const Tensor& output() const { return out_; }  // of the last forward

 private:
  // h_out = h_in + dropout(sublayer_out).
  void residual_forward(const Tensor& h_in, const Tensor& sublayer_out, RngKey key,
                        Tensor& h_out) const;

  Communicator& tp_;
  uint32_t layer_id_;
  int64_t num_heads_;  // this rank's
  RMSNorm self_norm_;
  Attention self_attention_;
  std::optional<RMSNorm> cross_norm_;
  std::optional<Attention> cross_attention_;
  RMSNorm ff_norm_;
  FeedForward feed_forward_;
  DropoutPlan dropout_;
  Tensor after_self_, after_cross_, out_;
  Tensor dsublayer_, dnormed_;
};

}  // namespace stilts
