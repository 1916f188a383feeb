// Adafactor (Shazeer & Stern 2018) exactly as Hugging Face transformers implements it:
// factored second moments for matrices, full ones for vectors, update clipping, optional
// parameter scaling and momentum.
#pragma once

#include "core/optim/optimizer.h"

namespace stilts {

class Adafactor : public Optimizer {
 public:
  Adafactor(const OptimizerOptions& options, const Parameters& params);
  void step(Parameters& params, float lr) override;
  std::vector<NamedTensor> state() override;

 private:
  struct Slot {
    Tensor row, col, full, momentum;  // undefined where unused
  };
  OptimizerOptions options_;
  std::vector<std::string> names_;
  std::vector<Slot> slots_;
};

}  // namespace stilts
