#include <cmath>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {

void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s) {
  const auto t = static_cast<double>(s.step);
  const auto decay = static_cast<float>(1.0 - static_cast<double>(s.lr) * s.weight_decay);
  const auto step_size = static_cast<float>(s.lr / (1.0 - std::pow(double{s.beta1}, t)));
  const auto bias_correction2_sqrt =
      static_cast<float>(std::sqrt(1.0 - std::pow(double{s.beta2}, t)));
  float* pp = param.data<float>();
  const float* pg = grad.data<float>();
  float* pm = m.data<float>();
  float* pv = v.data<float>();
  for_blocks(param.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      pm[i] = s.beta1 * pm[i] + (1.0f - s.beta1) * pg[i];
      pv[i] = s.beta2 * pv[i] + (1.0f - s.beta2) * pg[i] * pg[i];
      pp[i] =
          pp[i] * decay - step_size * pm[i] / (std::sqrt(pv[i]) / bias_correction2_sqrt + s.eps);
    }
  });
}

}  // namespace stilts::cpu
