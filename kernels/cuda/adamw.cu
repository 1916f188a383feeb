// PyTorch's AdamW step on the GPU (kernels/ops.h): one fused pass over the f32 parameter, its
// gradient and both moments, with the step's scalars computed on the host in double as the
// CPU twin does.
#include <cmath>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;

struct AdamWScalars {
  float beta1, beta2, eps;
  float decay;                  // 1 - lr * weight_decay
  float step_size;              // lr / (1 - beta1^t)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
};

__global__ void adamw_kernel(int64_t n, float* param, const float* grad, float* m, float* v,
                             AdamWScalars s) {
  const int64_t i = global_thread_index();
  if (i >= n) return;
  const float g = grad[i];
  const float mi = s.beta1 * m[i] + (1.0f - s.beta1) * g;
  const float vi = s.beta2 * v[i] + (1.0f - s.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] * s.decay - s.step_size * mi / (sqrtf(vi) / s.bias_correction2_sqrt + s.eps);
}

}  // namespace

void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s) {
  const int64_t n = param.numel();
  if (n == 0) return;
  const auto t = static_cast<double>(s.step);
  const AdamWScalars scalars{
      s.beta1,
      s.beta2,
      s.eps,
      static_cast<float>(1.0 - static_cast<double>(s.lr) * s.weight_decay),
      static_cast<float>(s.lr / (1.0 - std::pow(double{s.beta1}, t))),
      static_cast<float>(std::sqrt(1.0 - std::pow(double{s.beta2}, t))),
  };
  adamw_kernel<<<blocks_for(n, kThreads), kThreads, 0, compute_stream()>>>(
      n, param.data<float>(), grad.data<float>(), m.data<float>(), v.data<float>(), scalars);
  check_launch("adamw_update");
}

}  // namespace stilts::cuda
