#include <cmath>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {

void rmsnorm_forward(const Tensor& x, const Tensor& weight, float eps, Tensor& out, Tensor& rstd) {
  const int64_t rows = flat_rows(x), d = x.dim(-1);
  const float* px = x.data<float>();
  const float* pw = weight.data<float>();
  float* po = out.data<float>();
  float* pr = rstd.data<float>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    const float* xi = px + i * d;
    const double ss = lane_sum(0, d, [&](int64_t j) { return static_cast<double>(xi[j]) * xi[j]; });
    const float mean_square = static_cast<float>(ss / static_cast<double>(d));
    const float r = 1.0f / std::sqrt(mean_square + eps);
    pr[i] = r;
    float* oi = po + i * d;
    for (int64_t j = 0; j < d; ++j) oi[j] = pw[j] * (xi[j] * r);
  });
}

// With y = w x r and r = (mean(x^2) + eps)^-1/2:
//   dx_j = r w_j g_j - x_j r^3 / d * sum_k g_k w_k x_k,   dw_j = sum_rows g_j x_j r.
void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                      Tensor& dx, Tensor& dweight) {
  const int64_t rows = flat_rows(x), d = x.dim(-1);
  const float* pg = dout.data<float>();
  const float* px = x.data<float>();
  const float* pw = weight.data<float>();
  const float* pr = rstd.data<float>();
  float* pdx = dx.data<float>();
  float* pdw = dweight.data<float>();
  rows_and_column_sums(
      rows, d,
      [&](int64_t i, double* dw_partial) {
        const float* gi = pg + i * d;
        const float* xi = px + i * d;
        const double dot =
            lane_sum(0, d, [&](int64_t j) { return static_cast<double>(gi[j]) * pw[j] * xi[j]; });
        const float r = pr[i];
        const auto c = static_cast<float>(dot * r * r * r / static_cast<double>(d));
        float* dxi = pdx + i * d;
        for (int64_t j = 0; j < d; ++j) {
          dxi[j] += r * pw[j] * gi[j] - xi[j] * c;
          dw_partial[j] += static_cast<double>(gi[j]) * xi[j] * r;
        }
      },
      [&](int64_t j, double s) { pdw[j] += static_cast<float>(s); });
}

}  // namespace stilts::cpu
