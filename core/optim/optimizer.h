// Optimizers over the parameter registry, plus global-norm gradient clipping.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/named_tensor.h"
#include "core/params.h"

namespace stilts {

struct OptimizerOptions {
  std::string name = "adafactor";  // adafactor | adamw
  float weight_decay = 0.0f;
  // Adafactor (Hugging Face defaults; the T5 fine-tuning recipe leaves scale_parameter off).
  bool scale_parameter = false;
  float momentum = 0.0f;  // Adafactor's beta1; 0 keeps no first moment
  float clip_threshold = 1.0f;
  float decay_rate = -0.8f;
  float eps1 = 1e-30f;
  float eps2 = 1e-3f;
  // AdamW
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;

  // Throws std::invalid_argument naming the option.
  void validate() const;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its gradient at learning rate lr.
  virtual void step(Parameters& params, float lr) = 0;
  // Views of every state tensor under a stable name ("<param>/exp_avg_sq_row", ...), for
  // saving and for loading in place.
  virtual std::vector<NamedTensor> state() = 0;

  // Updates taken so far; restored from the trainer state on resume.
  int64_t steps() const { return steps_; }
  void set_steps(int64_t steps) { steps_ = steps; }

 protected:
  int64_t steps_ = 0;
};

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options,
                                          const Parameters& params);

// torch.nn.utils.clip_grad_norm_: scales every gradient by min(1, max_norm / (norm + 1e-6))
// and returns the global L2 norm before clipping. max_norm <= 0 only measures.
double clip_grad_norm(Parameters& params, float max_norm);

}  // namespace stilts
