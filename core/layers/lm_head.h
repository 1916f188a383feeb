// The untied output projection and the token-mean cross-entropy (with ignore index and
// optional z-loss). mT5 applies no d_model^-0.5 rescale before the head.
#pragma once

#include "core/layers/linear.h"

namespace stilts {

struct HeadLoss {
  double loss_sum = 0;  // sum over kept tokens of nll (+ z-loss term)
  int64_t tokens = 0;   // kept (non-ignored) target tokens
  double mean() const { return tokens ? loss_sum / static_cast<double>(tokens) : 0.0; }
};

class LmHead {
 public:
  LmHead(Parameters& params, const std::string& name);

  // x [N, d] (kept by reference), targets i32 [N] with kIgnoreIndex for ignored positions.
  HeadLoss forward(const Tensor& x, const Tensor& targets, float z_loss);
  // Gradient of the token-mean loss: dx += d(loss_sum / tokens)/dx.
  void backward(Tensor& dx);

  const Tensor& logits() const { return logits_; }              // [N, V]
  const Tensor& token_losses() const { return token_losses_; }  // [N], 0 where ignored

 private:
  Linear projection_;
  Tensor x_, targets_, logits_, token_losses_, logsumexp_, dlogits_;
  float z_loss_ = 0.0f;
  int64_t tokens_ = 0;
};

}  // namespace stilts
