// The gated-GELU activation on the GPU, with the formulas of kernels/cpu/gated_gelu.cc (tanhf
// may differ from glibc's tanh by an ulp).
#include <stdexcept>
#include <string>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

__device__ __forceinline__ float gelu_tanh(float x) {
  return tanhf(kSqrt2OverPi * (x + kCubic * x * x * x));
}

template <class Gate, class Linear, class Out>
__global__ void gated_gelu_forward_kernel(const Gate* gate, const Linear* linear, Out* out,
                                          long long n) {
  const long long i = global_thread_index();
  if (i >= n) return;
  const float x = load(gate, i);
  store(out, i, 0.5f * x * (1.0f + gelu_tanh(x)) * load(linear, i));
}

// d/dx of 0.5 x (1 + tanh(u)), u = c (x + a x^3): 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2).
template <class G, class Act, class Grad>
__global__ void gated_gelu_backward_kernel(const G* dout, const Act* gate, const Act* linear,
                                           Grad* dgate, Grad* dlinear, long long n) {
  const long long i = global_thread_index();
  if (i >= n) return;
  const float x = load(gate, i), g = load(dout, i);
  const float t = gelu_tanh(x);
  const float gelu = 0.5f * x * (1.0f + t);
  const float gelu_grad =
      0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
  store(dgate, i, load(dgate, i) + g * load(linear, i) * gelu_grad);
  store(dlinear, i, load(dlinear, i) + g * gelu);
}

}  // namespace

void gated_gelu_forward(const Tensor& gate, const Tensor& linear, Tensor& out) {
  with_floating_types(
      "gated_gelu_forward",
      [&](auto gate_tag, auto linear_tag, auto out_tag) {
        using Gate = decltype(gate_tag);
        using Linear = decltype(linear_tag);
        using Out = decltype(out_tag);
        gated_gelu_forward_kernel<<<blocks_for(out.numel(), kThreads), kThreads, 0,
                                    compute_stream()>>>(device_data<const Gate>(gate),
                                                        device_data<const Linear>(linear),
                                                        device_data<Out>(out), out.numel());
      },
      gate, linear, out);
  check_launch("gated_gelu_forward");
}

// gate and linear are the two halves of one projection and share a dtype, as do their
// gradients; dout may differ from both.
void gated_gelu_backward(const Tensor& dout, const Tensor& gate, const Tensor& linear,
                         Tensor& dgate, Tensor& dlinear) {
  const char* op = "gated_gelu_backward";
  if (gate.dtype() != linear.dtype() || dgate.dtype() != dlinear.dtype())
    throw std::invalid_argument(std::string(op) +
                                ": no CUDA kernel for gate and linear, or dgate and dlinear, of "
                                "different dtypes: gate " +
                                gate.describe() + ", linear " + linear.describe() + ", dgate " +
                                dgate.describe() + ", dlinear " + dlinear.describe());
  with_floating_types(
      op,
      [&](auto g_tag, auto act_tag, auto grad_tag) {
        using G = decltype(g_tag);
        using Act = decltype(act_tag);
        using Grad = decltype(grad_tag);
        gated_gelu_backward_kernel<<<blocks_for(dout.numel(), kThreads), kThreads, 0,
                                     compute_stream()>>>(
            device_data<const G>(dout), device_data<const Act>(gate),
            device_data<const Act>(linear), device_data<Grad>(dgate), device_data<Grad>(dlinear),
            dout.numel());
      },
      dout, gate, dgate);
  check_launch(op);
}

}  // namespace stilts::cuda
