// Dropout on the GPU: the same Philox draws as the CPU (kernels/cpu/dropout.cc), so a mask
// made on either device is the same mask. Each thread takes the four elements of one Philox
// evaluation.
#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/philox.h"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;

// out[i] (+)= factor_i in[i], factor_i = scale when uniform(key, i) >= rate, else 0; 1 when
// rate is 0. Rounded multiply and add, as on the CPU.
template <bool kAccumulate, class In, class Out>
__global__ void dropout_kernel(const In* in, Out* out, long long n, float rate, float scale,
                               RngKey key) {
  const long long block = global_thread_index();
  if (block * 4 >= n) return;
  Uniform4 u{};
  if (rate > 0.0f) u = philox_uniform4(key, static_cast<unsigned long long>(block));
  for (int j = 0; j < 4 && block * 4 + j < n; ++j) {
    const long long i = block * 4 + j;
    const float factor = rate > 0.0f ? (u.v[j] >= rate ? scale : 0.0f) : 1.0f;
    const float y = __fmul_rn(factor, load(in, i));
    store(out, i, kAccumulate ? __fadd_rn(load(out, i), y) : y);
  }
}

template <bool kAccumulate>
void apply_dropout(const char* op, const Tensor& in, float rate, RngKey key, Tensor& out) {
  const long long n = in.numel();
  const float scale = 1.0f / (1.0f - rate);
  with_floating_types(
      op,
      [&](auto in_tag, auto out_tag) {
        using In = decltype(in_tag);
        using Out = decltype(out_tag);
        dropout_kernel<kAccumulate>
            <<<blocks_for((n + 3) / 4, kThreads), kThreads, 0, compute_stream()>>>(
                device_data<const In>(in), device_data<Out>(out), n, rate, scale, key);
      },
      in, out);
  check_launch(op);
}

}  // namespace

void dropout_forward(const Tensor& x, float rate, RngKey key, Tensor& out) {
  apply_dropout<false>("dropout_forward", x, rate, key, out);
}

void dropout_backward(const Tensor& dout, float rate, RngKey key, Tensor& dx) {
  apply_dropout<true>("dropout_backward", dout, rate, key, dx);
}

}  // namespace stilts::cuda
