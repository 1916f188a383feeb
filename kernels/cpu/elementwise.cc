#include <cmath>
#include <cstring>
#include <numbers>
#include <type_traits>

#include "kernels/bf16.h"
#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {

void fill(Tensor& x, float value) {
  float* px = x.data<float>();
  for_blocks(x.numel(), kBlock,
             [&](int64_t begin, int64_t end) { std::fill(px + begin, px + end, value); });
}

void copy(const Tensor& src, Tensor& dst) {
  const char* from = static_cast<const char*>(src.raw());
  char* to = static_cast<char*>(dst.raw());
  constexpr int64_t kBytes = 1 << 20;  // one memcpy per block: its speed, on every thread
  for_blocks(static_cast<int64_t>(src.nbytes()), kBytes, [&](int64_t begin, int64_t end) {
    std::memcpy(to + begin, from + begin, static_cast<size_t>(end - begin));
  });
}

void cast(const Tensor& src, Tensor& dst) {
  if (src.dtype() == dst.dtype()) return copy(src, dst);
  if (src.dtype() == DType::f32) {
    const float* from = src.data<float>();
    uint16_t* to = dst.data<uint16_t>();
    for_blocks(src.numel(), kBlock, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) to[i] = float_to_bf16(from[i]);
    });
    return;
  }
  const uint16_t* from = src.data<uint16_t>();
  float* to = dst.data<float>();
  for_blocks(src.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) to[i] = bf16_to_float(from[i]);
  });
}

bool all_finite(const Tensor& x) {
  auto finite_block = [&](auto* p) {
    return blocked_sum(x.numel(), [&](int64_t begin, int64_t end) {
             double bad = 0;
             for (int64_t i = begin; i < end; ++i) {
               float v;
               if constexpr (std::is_same_v<decltype(p), const uint16_t*>)
                 v = bf16_to_float(p[i]);
               else
                 v = p[i];
               bad += std::isfinite(v) ? 0 : 1;
             }
             return bad;
           }) == 0;
  };
  if (x.dtype() == DType::bf16) return finite_block(static_cast<const uint16_t*>(x.raw()));
  return finite_block(static_cast<const float*>(x.data<float>()));
}

void add_inplace(Tensor& acc, const Tensor& x, float alpha) {
  float* pa = acc.data<float>();
  const float* px = x.data<float>();
  for_blocks(acc.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) pa[i] += alpha * px[i];
  });
}

void scale_inplace(Tensor& x, float alpha) {
  float* px = x.data<float>();
  for_blocks(x.numel(), kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) px[i] *= alpha;
  });
}

// Box-Muller: element i takes the uniforms (key, 2i) and (key, 2i + 1). 1 - u lies in (0, 1],
// so the logarithm is finite.
void fill_normal(Tensor& x, float mean, float std, RngKey key, int64_t first) {
  float* px = x.data<float>();
  constexpr int64_t kNormals = 1024;
  for_blocks(x.numel(), kNormals, [&](int64_t begin, int64_t end) {
    float u[2 * kNormals];
    uniform_range(key, 2 * static_cast<uint64_t>(first + begin), 2 * (end - begin), u);
    for (int64_t i = begin; i < end; ++i) {
      const float u1 = u[2 * (i - begin)], u2 = u[2 * (i - begin) + 1];
      const float z =
          std::sqrt(-2.0f * std::log(1.0f - u1)) * std::cos(2.0f * std::numbers::pi_v<float> * u2);
      px[i] = mean + std * z;
    }
  });
}

double sum(const Tensor& x) {
  const float* px = x.data<float>();
  return blocked_sum(x.numel(), [&](int64_t begin, int64_t end) {
    return lane_sum(begin, end, [&](int64_t i) { return static_cast<double>(px[i]); });
  });
}

double sum_squares(const Tensor& x) {
  const float* px = x.data<float>();
  return blocked_sum(x.numel(), [&](int64_t begin, int64_t end) {
    return lane_sum(begin, end, [&](int64_t i) { return static_cast<double>(px[i]) * px[i]; });
  });
}

void argmax_rows(const Tensor& x, Tensor& out) {
  const int64_t rows = flat_rows(x), cols = x.dim(-1);
  const float* px = x.data<float>();
  int32_t* po = out.data<int32_t>();
  for_blocks(rows, 1, [&](int64_t i, int64_t) {
    const float* row = px + i * cols;
    po[i] = static_cast<int32_t>(std::max_element(row, row + cols) - row);
  });
}

void gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  const int64_t rows = flat_rows(x), cols = x.dim(-1);
  const float* px = x.data<float>();
  const int32_t* pi = index.data<int32_t>();
  float* po = out.data<float>();
  for_blocks(rows, kBlock, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      po[i] = pi[i] >= 0 && pi[i] < cols ? px[i * cols + pi[i]] : 0.0f;
  });
}

}  // namespace stilts::cpu
