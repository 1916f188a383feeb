#include "core/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stilts {

void ScheduleOptions::validate() const {
  if (kind != "constant" && kind != "linear" && kind != "rsqrt" && kind != "relative")
    throw std::invalid_argument("--schedule: unknown schedule '" + kind +
                                "' (expected constant, linear, rsqrt or relative)");
  if (!(lr > 0) && kind != "relative") throw std::invalid_argument("--lr: must be positive");
  if (warmup_steps < 0) throw std::invalid_argument("--warmup-steps: must be >= 0");
  if (kind == "linear" && total_steps <= warmup_steps)
    throw std::invalid_argument("--schedule linear: the step count must exceed --warmup-steps");
}

float learning_rate(const ScheduleOptions& o, int64_t step) {
  const double s = static_cast<double>(std::max<int64_t>(step, 1));
  const double warmup = static_cast<double>(o.warmup_steps);
  if (o.kind == "rsqrt") return static_cast<float>(o.lr / std::sqrt(std::max(s, warmup)));
  if (o.kind == "relative") {
    const double ceiling = o.warmup_steps > 0 ? 1e-6 * s : 1e-2;
    return static_cast<float>(std::min(ceiling, 1.0 / std::sqrt(s)));
  }
  const double ramp = o.warmup_steps > 0 ? std::min(1.0, s / warmup) : 1.0;
  if (o.kind == "linear" && s > warmup) {
    const double remaining = static_cast<double>(o.total_steps) - s;
    return static_cast<float>(o.lr * std::max(0.0, remaining / (o.total_steps - warmup)));
  }
  return static_cast<float>(o.lr * ramp);
}

}  // namespace stilts
