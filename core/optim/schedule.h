// Learning-rate schedules, evaluated at a 1-based step.
#pragma once

#include <cstdint>
#include <string>

namespace stilts {

struct ScheduleOptions {
  // constant: lr (ramped linearly over warmup_steps when > 0)
  // linear:   ramp over warmup_steps, then linear decay to 0 at total_steps
  // rsqrt:    lr / sqrt(max(step, warmup_steps)) (T5's pre-training rsqrt_decay; lr 1.0 with
  //           10,000 warmup steps is the mT5 recipe)
  // relative: Adafactor's relative step, min(1e-2, 1/sqrt(step)) (min(1e-6 step, ...) with
  //           warmup_steps > 0, HF's warmup_init)
  std::string kind = "constant";
  float lr = 1e-3f;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;

  // Throws std::invalid_argument naming the option.
  void validate() const;
};

float learning_rate(const ScheduleOptions& options, int64_t step);

}  // namespace stilts
