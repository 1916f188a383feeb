#include <cmath>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

float gelu_new(float x) {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kCubic * x * x * x)));
}

// d/dx of 0.5 x (1 + tanh(u)), u = c (x + a x^3): 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2).
float gelu_new_grad(float x) {
  const float t = std::tanh(kSqrt2OverPi * (x + kCubic * x * x * x));
  return 0.5f * (1.0f + t) +
         0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
}

}  // namespace

void gated_gelu_forward(const Tensor& gate, const Tensor& linear, Tensor& out) {
  const float* pg = gate.data<float>();
  const float* pl = linear.data<float>();
  float* po = out.data<float>();
  for_blocks(out.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) po[i] = gelu_new(pg[i]) * pl[i];
  });
}

void gated_gelu_backward(const Tensor& dout, const Tensor& gate, const Tensor& linear,
                         Tensor& dgate, Tensor& dlinear) {
  const float* pd = dout.data<float>();
  const float* pg = gate.data<float>();
  const float* pl = linear.data<float>();
  float* pdg = dgate.data<float>();
  float* pdl = dlinear.data<float>();
  for_blocks(dout.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      pdg[i] += pd[i] * pl[i] * gelu_new_grad(pg[i]);
      pdl[i] += pd[i] * gelu_new(pg[i]);
    }
  });
}

}  // namespace stilts::cpu
