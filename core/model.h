// mT5 for conditional generation: shared embedding, encoder and decoder stacks, untied
// lm_head and the loss, with a hand-written backward pass (no autograd), llm.c style.
//
// Under tensor parallelism every rank of the TP group runs the model on the same batch with
// its shard of the parameters (core/params.h). Each layer declares its parameters with their
// split and issues its own collectives (core/layers/column_parallel_linear.h,
// row_parallel_linear.h, embedding.h, lm_head.h; parallel/README.md lists the layout). A lone
// rank uses a group of one.
//
// The model runs on its parameters' device in their activation dtype (core/params.h), its
// residual stream in f32 when asked (ModelNumerics): the batch arrives as host vectors and is
// uploaded (one copy per tensor); the only device read in forward and backward is the loss sum.
#pragma once

#include <functional>
#include <utility>

#include "core/batch.h"
#include "core/layers/embedding.h"
#include "core/layers/lm_head.h"
#include "core/layers/stack.h"
#include "parallel/self_communicator.h"

namespace stilts {

struct ForwardOptions {
  bool training = false;  // dropout at the config's rate; otherwise none
  float z_loss = 0.0f;
  uint64_t seed = 0;  // dropout streams are keyed by (seed, step, layer, site)
  int64_t step = 0;
  // Blocks keep only their inputs and rerun their forward in backward (core/layers/block.h):
  // less memory, the same gradients bit for bit.
  bool recompute_activations = false;
};

// How the model rounds, beyond its parameters' compute dtype (bf16 on the GPU, f32 on the
// CPU; core/params.h). Not a property of the weights: a checkpoint trained with any numerics
// loads and resumes with any other.
struct ModelNumerics {
  // The residual stream in f32, as Megatron-LM's --fp32-residual-connection: the hidden state
  // between the sublayers, which every block adds into (the stack's input, each block's output,
  // and their gradient in backward), while the sublayers (norm outputs, attention,
  // feed-forward, their matmuls) stay in the compute dtype. On a bf16 device every residual
  // addition otherwise rounds the sum to 8 significant bits, once per sublayer of every layer
  // of the stack. The residual activations take twice the memory (docs/GPU.md). The CPU
  // computes in f32 throughout: there it changes nothing.
  bool fp32_residual = false;
  // The residual stream's dtype for parameters that compute in `compute`.
  DType residual_dtype(DType compute) const { return fp32_residual ? DType::f32 : compute; }
};

class Mt5Model {
 public:
  // The parameters and the group must outlive the model; gradients accumulate into
  // params.grad(...). tp's size and rank must be the parameters' shard (else
  // std::invalid_argument).
  explicit Mt5Model(Parameters& params, Communicator& tp = single_rank_group(),
                    ModelNumerics numerics = {});

  // Runs the encoder, decoder and head on the batch and returns the loss. Keeps every
  // activation for backward().
  HeadLoss forward(const Batch& batch, const ForwardOptions& options);
  // The embedding and the encoder alone, on ids [batch, input_len] padded with pad: returns
  // the encoder output [batch, input_len, d] (also encoder_output()) and keeps the padding
  // mask (encoder_mask()). forward() runs it first.
  const Tensor& encode(const std::vector<int32_t>& input_ids, int64_t batch, int64_t input_len,
                       const ForwardOptions& options = {});
  // Incremental decoding (core/generate.h) through the same decoder, with key/value caches,
  // dropout off and no backward. After encode(): the cross-attention keys and values of the
  // encoder output, projected once; with rows, decoder row r reads the encoding of example
  // rows[r] (several rows may share one: rank classification's candidates), else row r reads
  // example r.
  DecoderCache start_decoding(const std::vector<int64_t>& rows = {});
  // tokens: each decoder row's token at cache.position (0: the start token) -> this rank's
  // logits [rows, V/tp] of the next token (also logits()), on the parameters' device.
  // Advances cache.position.
  const Tensor& decode_step(const std::vector<int32_t>& tokens, DecoderCache& cache);
  // Gradients of loss_scale * loss_sum of the last forward, accumulated into the registry:
  // loss_scale = 1 / tokens gives the token mean; data parallelism passes 1 / the tokens of
  // the global batch so that summing the ranks' gradients gives the global token mean.
  void backward(float loss_scale);
  // The token-mean gradient of the last forward.
  void backward() { backward(last_tokens_ ? 1.0f / static_cast<float>(last_tokens_) : 0.0f); }
  // Called during backward with the smallest registry index k such that every parameter of
  // index >= k has its final gradient of the step: after the head, each stack's final norm,
  // each block, each stack's bias table and, with k = 0, the shared embedding. k strictly
  // decreases within a backward and ends at 0, so a data-parallel all-reduce of the gradients
  // from the end of the registry can start while backward goes on. An empty function turns
  // the calls off.
  void set_gradients_ready_callback(GradientsReady callback) {
    gradients_ready_ = std::move(callback);
  }

  Communicator& tp() { return tp_; }
  // [B*U, V/tp], this rank's slice; valid after forward until backward, which writes the
  // logits' gradient over it (after decode_step: [rows, V/tp]).
  const Tensor& logits() const { return head_.logits(); }
  // out i32 [B*U] on the parameters' device: each target position's most likely token of the
  // last forward (collective over the TP group). Before backward.
  void predicted_tokens(Tensor& out);
  // On the parameters' device: f32 [B*U], the encoder output [B, T, d] and f32 [B, T] (0 = pad).
  const Tensor& token_losses() const { return head_.token_losses(); }
  const Tensor& encoder_output() const { return encoder_out_; }
  const Tensor& encoder_mask() const { return encoder_mask_; }
  // The encoder's hidden state i of the last encode (Stack::hidden_state), [B, T, d].
  const Tensor& encoder_hidden_state(int64_t i) const { return encoder_.hidden_state(i); }
  int64_t encoder_layers() const { return encoder_.num_layers(); }
  Parameters& params() { return params_; }
  // The dtype of the residual stream (ModelNumerics): the hidden states but the stacks' outputs.
  DType residual_dtype() const { return residual_dtype_; }

 private:
  Parameters& params_;
  Communicator& tp_;
  DType residual_dtype_;
  int64_t last_tokens_ = 0;
  GradientsReady gradients_ready_;
  size_t lm_head_index_;
  // The two stacks look up the shared table into separate buffers.
  Embedding embedding_, decoder_embedding_;
  Stack encoder_, decoder_;
  LmHead head_;
  Tensor input_ids_, decoder_ids_, targets_, encoder_mask_, encoder_out_, step_ids_;
  Tensor dencoder_embedded_, ddecoder_embedded_, dencoder_out_, ddecoder_out_, no_mask_;
};

}  // namespace stilts
