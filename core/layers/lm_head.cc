#include "core/layers/lm_head.h"

#include "core/batch.h"
#include "parallel/tensor_parallel.h"

namespace stilts {

LmHead::LmHead(Parameters& params, const std::string& name, Communicator& tp)
    : projection_{ParamRef::bind(params, name)},
      loss_(tp, params.config().vocab_size, kIgnoreIndex) {}

HeadLoss LmHead::forward(const Tensor& x, const Tensor& targets, float z_loss) {
  x_ = x;
  targets_ = targets;
  const int64_t n = targets.numel();
  projection_.forward(x, ensure_shape(logits_, {n, projection_.out_features()}));
  loss_.forward(logits_, targets, z_loss, ensure_shape(token_losses_, {n}));
  int64_t tokens = 0;
  for (int64_t i = 0; i < n; ++i) tokens += targets.data<int32_t>()[i] != kIgnoreIndex;
  return {ops::sum(token_losses_), tokens};
}

void LmHead::backward(float loss_scale, Tensor& dx) {
  loss_.backward(logits_, targets_, loss_scale, ensure_shape(dlogits_, logits_.shape()));
  projection_.backward(x_, dlogits_, dx);
}

}  // namespace stilts
