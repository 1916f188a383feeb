// The untied output projection and the token cross-entropy (with ignore index and optional
// z-loss). mT5 applies no d_model^-0.5 rescale before the head.
//
// Vocab-parallel: the projection is column-parallel over the vocabulary, so this rank's logits
// are [N, V/tp] and the loss combines the slices with VocabParallelCrossEntropy; the full
// logits are never gathered.
#pragma once

#include <string>
#include <vector>

#include "core/layers/column_parallel_linear.h"
#include "parallel/vocab_parallel_cross_entropy.h"

namespace stilts {

struct HeadLoss {
  double loss_sum = 0;  // sum over kept tokens of nll (+ z-loss term)
  int64_t tokens = 0;   // kept (non-ignored) target tokens
  double mean() const { return tokens ? loss_sum / static_cast<double>(tokens) : 0.0; }
};

class LmHead {
 public:
  // Registers the projection `name` [V, d], split by rows (vocabulary), from N(0, 1).
  static void declare(std::vector<ParamSpec>& specs, const std::string& name,
                      const ModelConfig& config);

  LmHead(Parameters& params, const std::string& name, Communicator& tp);

  // x [N, d] (kept by reference) -> this rank's logits [N, V/tp] (also logits()). forward
  // runs it first; incremental decoding alone.
  const Tensor& project(const Tensor& x);
  // x [N, d] (kept by reference), targets i32 [N] on x's device with kIgnoreIndex for ignored
  // positions, of which kept_tokens are not (counted on the host, from the batch). Collective
  // over the TP group. Reads one number from the device: the loss sum.
  HeadLoss forward(const Tensor& x, const Tensor& targets, int64_t kept_tokens, float z_loss);
  // The gradient of loss_scale * loss_sum: dx += d/dx, summed over the TP group; dx must hold
  // no other gradient yet (ColumnParallelLinear::backward). The token mean is
  // loss_scale = 1 / tokens; under data parallelism, 1 / the tokens of the global batch.
  void backward(float loss_scale, Tensor& dx);

  // [N, V/tp], this rank's slice; after backward, its gradient instead.
  const Tensor& logits() const { return logits_; }
  int64_t vocab_start() const { return loss_.vocab_start(); }   // of the slice
  const Tensor& token_losses() const { return token_losses_; }  // f32 [N], 0 where ignored

 private:
  ColumnParallelLinear projection_;
  VocabParallelCrossEntropy loss_;
  Tensor x_, targets_, logits_, token_losses_;
};

}  // namespace stilts
