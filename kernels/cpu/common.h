// Building blocks shared by the CPU kernels. Every reduction here cuts its range into blocks
// of a fixed size, whatever the thread count, and combines the blocks in order: results are
// bit-identical for any number of threads, not only for a fixed one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>

#include "kernels/philox.h"
#include "kernels/reduction_order.h"
#include "kernels/tensor.h"

namespace stilts::cpu {

// Elements per block of the flat loops and reductions: large enough to amortize the OpenMP
// fork, small enough to balance two to a few dozen threads on typical tensors.
inline constexpr int64_t kBlock = 4096;
// Columns per tile in reductions over the rows of a matrix: one tile of double accumulators
// stays in registers and L1 while a thread walks the rows.
inline constexpr int64_t kColumnTile = 64;

// The N of "[N, d]": the product of every dimension but the last.
inline int64_t flat_rows(const Tensor& t) {
  int64_t n = 1;
  for (int i = 0; i + 1 < t.rank(); ++i) n *= t.shape()[i];
  return n;
}

// Uninitialized scratch: every kernel writes its scratch before reading it.
inline std::unique_ptr<float[]> scratch(int64_t n) {
  return std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n));
}

// body(begin, end) over [0, n) in blocks of `block`, blocks spread over the threads.
template <class Body>
void for_blocks(int64_t n, int64_t block, Body body) {
  const int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) body(b * block, std::min(n, (b + 1) * block));
}

// The sum over [0, n) of block_sum(begin, end), a double partial sum of one block.
template <class BlockSum>
double blocked_sum(int64_t n, BlockSum block_sum) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  auto partial = std::make_unique_for_overwrite<double[]>(static_cast<size_t>(blocks));
  for_blocks(n, kBlock,
             [&](int64_t begin, int64_t end) { partial[begin / kBlock] = block_sum(begin, end); });
  double total = 0.0;
  for (int64_t b = 0; b < blocks; ++b) total += partial[b];
  return total;
}

// For each column j of a [rows, cols] matrix, store(j, sum_i term(i, j)) with the sum in
// double over i in increasing order. Threads own column tiles, so no two write one column.
template <class Term, class Store>
void column_sums(int64_t rows, int64_t cols, Term term, Store store) {
  for_blocks(cols, kColumnTile, [&](int64_t begin, int64_t end) {
    double acc[kColumnTile] = {};
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = begin; j < end; ++j) acc[j - begin] += term(i, j);
    for (int64_t j = begin; j < end; ++j) store(j, acc[j - begin]);
  });
}

// One pass over the rows of a [rows, cols] matrix that also sums over them per column:
// row(i, partial) handles row i and adds its column contributions into partial[0, cols), the
// double accumulator of its block of kRowBlock rows. Then store(j, s_j) with s_j the block
// partials summed in block order: the order of kernels/reduction_order.h, which the GPU follows
// too, the same for every thread count.
using reduction_order::kRowBlock;
template <class Row, class Store>
void rows_and_column_sums(int64_t rows, int64_t cols, Row row, Store store) {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  auto partial = std::make_unique<double[]>(static_cast<size_t>(blocks * cols));
  for_blocks(rows, kRowBlock, [&](int64_t begin, int64_t end) {
    double* block_partial = partial.get() + begin / kRowBlock * cols;
    for (int64_t i = begin; i < end; ++i) row(i, block_partial);
  });
  column_sums(
      blocks, cols, [&](int64_t b, int64_t j) { return partial[b * cols + j]; }, store);
}

// sum_{t in [begin, end)} term(t) in double over kLanes interleaved partial sums, combined in
// a fixed order: independent chains instead of one add-latency-bound chain, and loops the
// compiler vectorizes without reassociating anything itself.
inline constexpr int kLanes = 8;
template <class Term>
double lane_sum(int64_t begin, int64_t end, Term term) {
  double lanes[kLanes] = {};
  int64_t t = begin;
  for (; t + kLanes <= end; t += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += term(t + l);
  for (int l = 0; t < end; ++t, ++l) lanes[l] += term(t);
  double total = 0.0;
  for (double lane : lanes) total += lane;
  return total;
}

// max_t x[t] over n >= 1 elements, in interleaved lanes like lane_sum.
inline float lane_max(const float* x, int64_t n) {
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, x[0]);
  int64_t t = 0;
  for (; t + kLanes <= n; t += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = std::max(lanes[l], x[t + l]);
  for (int l = 0; t < n; ++t, ++l) lanes[l] = std::max(lanes[l], x[t]);
  return *std::max_element(lanes, lanes + kLanes);
}

// u[t] = philox_uniform(key, first + t) for t in [0, n), one Philox evaluation per four.
inline void uniform_range(RngKey key, uint64_t first, int64_t n, float* u) {
  uint64_t index = first;
  for (int64_t t = 0; t < n;) {
    const Uniform4 r = philox_uniform4(key, index >> 2);
    for (uint64_t j = index & 3; j < 4 && t < n; ++j, ++t, ++index) u[t] = r.v[j];
  }
}

// factor[t] = 1/(1-rate) when element first + t survives dropout (its uniform >= rate), else 0.
inline void dropout_factors(RngKey key, uint64_t first, int64_t n, float rate, float* factor) {
  uniform_range(key, first, n, factor);
  const float scale = 1.0f / (1.0f - rate);
  for (int64_t t = 0; t < n; ++t) factor[t] = factor[t] >= rate ? scale : 0.0f;
}

}  // namespace stilts::cpu
