#include "core/layers/lm_head.h"

#include "core/batch.h"
#include "core/layers/layer_scope.h"
#include "kernels/ops.h"

namespace stilts {

void LmHead::declare(std::vector<ParamSpec>& specs, const std::string& name, const ModelConfig& c) {
  ColumnParallelLinear::declare(specs, name, c.vocab_size, c.d_model, 1.0f);
}

LmHead::LmHead(Parameters& params, const std::string& name, Communicator& tp)
    : projection_(params, {name}, tp), loss_(tp, params.config().vocab_size, kIgnoreIndex) {}

const Tensor& LmHead::project(const Tensor& x) {
  x_ = x;
  projection_.forward(x, 0, ensure_like(logits_, {x.dim(0), projection_.out_features()}, x));
  return logits_;
}

HeadLoss LmHead::forward(const Tensor& x, const Tensor& targets, int64_t kept_tokens,
                         float z_loss) {
  LayerScope scope("lm_head");
  targets_ = targets;
  const int64_t n = targets.numel();
  project(x);
  loss_.forward(logits_, targets, z_loss, ensure_f32(token_losses_, {n}, x));
  return {ops::sum(token_losses_), kept_tokens};
}

void LmHead::backward(float loss_scale, Tensor& dx) {
  LayerScope scope("lm_head");
  // dlogits in place of the logits: each element is read before it is written (ops.h).
  loss_.backward(logits_, targets_, loss_scale, logits_);
  projection_.backward(x_, {logits_}, dx);
}

}  // namespace stilts
