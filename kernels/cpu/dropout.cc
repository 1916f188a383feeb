#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

// out[i] (+)= factor_i * in[i] with the dropout factors of `key` (1 when rate is 0).
template <bool kAccumulate>
void apply_dropout(const Tensor& in, float rate, RngKey key, Tensor& out) {
  const float* pi = in.data<float>();
  float* po = out.data<float>();
  for_blocks(in.numel(), kBlock, [&](int64_t begin, int64_t end) {
    float factor[kBlock];
    if (rate > 0.0f)
      dropout_factors(key, static_cast<uint64_t>(begin), end - begin, rate, factor);
    else
      std::fill(factor, factor + (end - begin), 1.0f);
    for (int64_t i = begin; i < end; ++i) {
      const float y = factor[i - begin] * pi[i];
      po[i] = kAccumulate ? po[i] + y : y;
    }
  });
}

}  // namespace

void dropout_forward(const Tensor& x, float rate, RngKey key, Tensor& out) {
  apply_dropout<false>(x, rate, key, out);
}

void dropout_backward(const Tensor& dout, float rate, RngKey key, Tensor& dx) {
  apply_dropout<true>(dout, rate, key, dx);
}

}  // namespace stilts::cpu
