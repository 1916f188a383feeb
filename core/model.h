// mT5 for conditional generation: shared embedding, encoder and decoder stacks, untied
// lm_head and the loss, with a hand-written backward pass (no autograd), llm.c style.
#pragma once

#include "core/batch.h"
#include "core/layers/embedding.h"
#include "core/layers/lm_head.h"
#include "core/layers/stack.h"

namespace stilts {

struct ForwardOptions {
  bool training = false;  // dropout at the config's rate; otherwise none
  float z_loss = 0.0f;
  uint64_t seed = 0;  // dropout streams are keyed by (seed, step, layer, site)
  int64_t step = 0;
};

class Mt5Model {
 public:
  // The parameters must outlive the model; gradients accumulate into params.grad(...).
  explicit Mt5Model(Parameters& params);

  // Runs the encoder, decoder and head on the batch and returns the loss. Keeps every
  // activation for backward().
  HeadLoss forward(const Batch& batch, const ForwardOptions& options);
  // Gradients of the token-mean loss of the last forward, accumulated into the registry.
  void backward();

  const Tensor& logits() const { return head_.logits(); }              // [B*U, V]
  const Tensor& token_losses() const { return head_.token_losses(); }  // [B*U]
  const Tensor& encoder_output() const { return encoder_out_; }        // [B, T, d]
  Parameters& params() { return params_; }

 private:
  Parameters& params_;
  // The two stacks look up the shared table into separate buffers.
  Embedding embedding_, decoder_embedding_;
  Stack encoder_, decoder_;
  LmHead head_;
  Tensor input_ids_, decoder_ids_, targets_, encoder_mask_, encoder_out_;
  Tensor dencoder_embedded_, ddecoder_embedded_, dencoder_out_, ddecoder_out_, no_mask_;
};

}  // namespace stilts
