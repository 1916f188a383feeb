// An encoder or decoder stack: dropout(embeddings), the blocks sharing one relative position
// bias (table owned by block 0), the final RMSNorm and dropout.
#pragma once

#include <vector>

#include "core/layers/block.h"

namespace stilts {

class Stack {
 public:
  // name: "encoder" or "decoder"; tp: the tensor-parallel group.
  Stack(Parameters& params, const std::string& name, Communicator& tp);

  // embedded [B, L, d] (kept by reference until backward). key_mask f32 [B, L] or undefined
  // (the decoder's self-attention is causal instead). encoder_out / encoder_mask: decoder only.
  const Tensor& forward(const Tensor& embedded, const Tensor& key_mask, const Tensor& encoder_out,
                        const Tensor& encoder_mask, const DropoutPlan& dropout);
  // dout: gradient of the stack output. Accumulates dembedded and (decoder) this rank's
  // partial dencoder_out.
  void backward(const Tensor& dout, Tensor& dembedded, Tensor& dencoder_out);
  // Hidden states of the last forward, numbered as Hugging Face's output_hidden_states: 0 is
  // the (dropped-out) embeddings, i in 1..L-1 the output of block i-1, L the stack's output
  // (the last block's after the final norm).
  const Tensor& hidden_state(int64_t i) const;
  int64_t num_layers() const { return static_cast<int64_t>(blocks_.size()); }

 private:
  bool is_decoder_;
  uint32_t stack_id_;
  const ModelConfig& config_;
  int64_t num_heads_;  // this rank's
  ParamRef bias_table_;
  std::vector<Block> blocks_;
  RMSNorm final_norm_;
  DropoutPlan dropout_;
  Tensor buckets_, position_bias_, dposition_bias_;
  Tensor input_, out_, dh_, dnormed_;
};

}  // namespace stilts
