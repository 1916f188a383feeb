#include "core/layers/lm_head.h"

#include "core/batch.h"

namespace stilts {

LmHead::LmHead(Parameters& params, const std::string& name)
    : projection_{ParamRef::bind(params, name)} {}

HeadLoss LmHead::forward(const Tensor& x, const Tensor& targets, float z_loss) {
  x_ = x;
  targets_ = targets;
  z_loss_ = z_loss;
  const int64_t n = targets.numel();
  projection_.forward(x, ensure_shape(logits_, {n, projection_.out_features()}));
  ensure_shape(token_losses_, {n});
  ensure_shape(logsumexp_, {n});
  ops::cross_entropy_forward(logits_, targets, kIgnoreIndex, z_loss, token_losses_, logsumexp_);
  tokens_ = 0;
  for (int64_t i = 0; i < n; ++i) tokens_ += targets.data<int32_t>()[i] != kIgnoreIndex;
  return {ops::sum(token_losses_), tokens_};
}

void LmHead::backward(Tensor& dx) {
  if (tokens_ == 0) return;
  ensure_shape(dlogits_, logits_.shape());
  ops::cross_entropy_backward(logits_, targets_, logsumexp_, kIgnoreIndex, z_loss_,
                              1.0f / static_cast<float>(tokens_), dlogits_);
  projection_.backward(x_, dlogits_, dx);
}

}  // namespace stilts
