// An encoder or decoder stack: dropout(embeddings), the blocks sharing one relative position
// bias (RelativePositionBias; Hugging Face names its table in block 0), the final RMSNorm and
// dropout.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/layers/block.h"
#include "core/layers/relative_position_bias.h"

namespace stilts {

// Called during backward with the smallest registry index k such that every parameter of
// index >= k has its final gradient of the step (Mt5Model::set_gradients_ready_callback).
using GradientsReady = std::function<void(size_t first_final_index)>;

// What incremental decoding keeps between steps (Stack::start_decoding).
struct DecoderCache {
  std::vector<BlockCache> blocks;
  Tensor encoder_mask;   // f32 [B, T]: the padding of each decoder row's encoding
  int64_t position = 0;  // of the next step's tokens
};

class Stack {
 public:
  // Registers the stack's parameters ("encoder" or "decoder"): the blocks', then the final
  // norm's.
  static void declare(std::vector<ParamSpec>& specs, const std::string& name,
                      const ModelConfig& config);

  // name: "encoder" or "decoder"; tp: the tensor-parallel group; residual_dtype: the dtype of
  // the hidden state between the blocks and of its gradient (Block).
  Stack(Parameters& params, const std::string& name, Communicator& tp, DType residual_dtype);

  // embedded [B, L, d] (kept by reference until backward). key_mask f32 [B, L] or undefined
  // (the decoder's self-attention is causal instead). encoder_out / encoder_mask: decoder only.
  // recompute: the blocks keep only their inputs (block.h). The output, after the final norm,
  // is in the compute dtype.
  const Tensor& forward(const Tensor& embedded, const Tensor& key_mask, const Tensor& encoder_out,
                        const Tensor& encoder_mask, const DropoutPlan& dropout, bool recompute);
  // dout: gradient of the stack output. Accumulates dembedded and (decoder) this rank's
  // partial dencoder_out, each in any floating dtype. Calls ready (when set) after the final
  // norm, after each block and after the relative position bias table: the stack's parameters
  // from the last to the first are then final, the table (block 0's) only after the last call
  // but one.
  void backward(const Tensor& dout, Tensor& dembedded, Tensor& dencoder_out,
                const GradientsReady& ready);
  // Incremental decoding (decoder only), one position per step and row, without dropout or
  // backward. start_decoding: every block's cross-attention keys and values of encoder_out
  // [E, T, d] (mask f32 [E, T]); with rows, decoder row r reads encoding rows[r] (several rows
  // may share one), else row r reads encoding r.
  DecoderCache start_decoding(const Tensor& encoder_out, const Tensor& encoder_mask,
                              const std::vector<int64_t>& rows);
  // embedded [B, 1, d]: each row's token at cache.position. Returns the stack's output
  // [B, 1, d] there and advances the position.
  const Tensor& decode(const Tensor& embedded, DecoderCache& cache);
  // Hidden states of the last forward, numbered as Hugging Face's output_hidden_states: 0 is
  // the (dropped-out) embeddings, i in 1..L-1 the output of block i-1 (these in the residual
  // dtype), L the stack's output (the last block's after the final norm).
  const Tensor& hidden_state(int64_t i) const;
  int64_t num_layers() const { return static_cast<int64_t>(blocks_.size()); }

 private:
  std::string name_;  // "encoder" or "decoder", the debug scope
  bool is_decoder_;
  DType residual_dtype_;
  uint32_t stack_id_;
  RelativePositionBias position_bias_;
  std::vector<Block> blocks_;
  RMSNorm final_norm_;
  // Registry indices for the gradient-ready calls: the final norm's, the bias table's and
  // each block's first parameter's.
  size_t final_norm_index_, bias_table_index_;
  std::vector<size_t> block_first_index_;
  DropoutPlan dropout_;
  Tensor dposition_bias_;
  Tensor input_, out_, dh_, dnormed_;
};

}  // namespace stilts
