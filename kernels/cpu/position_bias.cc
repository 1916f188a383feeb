#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

void check_buckets(const char* op, const int32_t* buckets, int64_t n, int64_t num_buckets) {
  for (int64_t t = 0; t < n; ++t)
    if (buckets[t] < 0 || buckets[t] >= num_buckets)
      throw std::out_of_range(std::string(op) + ": bucket " + std::to_string(buckets[t]) +
                              " at element " + std::to_string(t) + " is outside [0, " +
                              std::to_string(num_buckets) + ")");
}

}  // namespace

// Hugging Face's _relative_position_bucket evaluated as torch does it: the float32 logarithm
// of a float32 ratio, divided by math.log(max_distance / max_exact) (a double, rounded to
// float32), times the bucket count, truncated toward zero (transformers'
// models/t5/modeling_t5.py, T5Attention._relative_position_bucket). position_bias_test.cc
// tabulates the result.
int relative_position_bucket(int64_t relative_position, bool bidirectional, int num_buckets,
                             int max_distance) {
  int bucket = 0;
  int64_t rel = relative_position;
  if (bidirectional) {
    num_buckets /= 2;
    if (rel > 0) bucket += num_buckets;
    rel = rel < 0 ? -rel : rel;
  } else {
    rel = -std::min<int64_t>(rel, 0);
  }
  const int max_exact = num_buckets / 2;
  if (rel < max_exact) return bucket + static_cast<int>(rel);
  const auto scale = static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact));
  const float fraction = std::log(static_cast<float>(rel) / static_cast<float>(max_exact)) / scale *
                         static_cast<float>(num_buckets - max_exact);
  const int64_t large = max_exact + static_cast<int64_t>(fraction);
  return bucket + static_cast<int>(std::min<int64_t>(large, num_buckets - 1));
}

Tensor relative_position_buckets(int64_t q_len, int64_t k_len, int64_t q_offset, bool bidirectional,
                                 int num_buckets, int max_distance) {
  Tensor table({q_len, k_len}, DType::i32);
  int32_t* pt = table.data<int32_t>();
  for (int64_t i = 0; i < q_len; ++i)
    for (int64_t j = 0; j < k_len; ++j)
      pt[i * k_len + j] =
          relative_position_bucket(j - (q_offset + i), bidirectional, num_buckets, max_distance);
  return table;
}

void position_bias_forward(const Tensor& buckets, const Tensor& table, Tensor& bias) {
  const int64_t cells = buckets.numel(), num_buckets = table.dim(0), heads = table.dim(1);
  const int32_t* pb = buckets.data<int32_t>();
  check_buckets("position_bias_forward", pb, cells, num_buckets);
  const float* pt = table.data<float>();
  float* po = bias.data<float>();
  for_blocks(heads, 1, [&](int64_t h, int64_t) {
    for (int64_t t = 0; t < cells; ++t) po[h * cells + t] = pt[pb[t] * heads + h];
  });
}

// One thread per head owns column h of dtable, so the sums need no synchronization.
void position_bias_backward(const Tensor& buckets, const Tensor& dbias, Tensor& dtable) {
  const int64_t cells = buckets.numel(), num_buckets = dtable.dim(0), heads = dtable.dim(1);
  const int32_t* pb = buckets.data<int32_t>();
  check_buckets("position_bias_backward", pb, cells, num_buckets);
  const float* pd = dbias.data<float>();
  float* pt = dtable.data<float>();
  for_blocks(heads, 1, [&](int64_t h, int64_t) {
    auto acc = std::make_unique<double[]>(static_cast<size_t>(num_buckets));
    for (int64_t t = 0; t < cells; ++t) acc[pb[t]] += pd[h * cells + t];
    for (int64_t b = 0; b < num_buckets; ++b) pt[b * heads + h] += static_cast<float>(acc[b]);
  });
}

}  // namespace stilts::cpu
