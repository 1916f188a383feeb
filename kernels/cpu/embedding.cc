#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

void check_ids(const char* op, const int32_t* ids, int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw std::out_of_range(std::string(op) + ": id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside [0, " + std::to_string(vocab) + ")");
}

}  // namespace

void embedding_forward(const Tensor& ids, const Tensor& table, Tensor& out, int64_t vocab_start,
                       int64_t vocab_size) {
  const int64_t n = ids.numel(), rows = table.dim(0), d = table.dim(1);
  const int32_t* pi = ids.data<int32_t>();
  check_ids("embedding_forward", pi, n, vocab_size);
  const float* pt = table.data<float>();
  float* po = out.data<float>();
  for_blocks(n, 1, [&](int64_t i, int64_t) {
    const int64_t row = pi[i] - vocab_start;
    if (row >= 0 && row < rows)
      std::memcpy(po + i * d, pt + row * d, static_cast<size_t>(d) * sizeof(float));
    else
      std::fill(po + i * d, po + (i + 1) * d, 0.0f);
  });
}

// Positions sorted by id (stably) group the rows that share a table row; each group is
// summed by one thread in position order, so no two threads touch one row and the order of
// the additions is fixed.
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable, int64_t vocab_start,
                        int64_t vocab_size) {
  const int64_t n = ids.numel(), rows = dtable.dim(0), d = dtable.dim(1);
  const int32_t* pi = ids.data<int32_t>();
  check_ids("embedding_backward", pi, n, vocab_size);
  std::vector<int64_t> order;
  for (int64_t t = 0; t < n; ++t)
    if (pi[t] >= vocab_start && pi[t] < vocab_start + rows) order.push_back(t);
  const auto kept = static_cast<int64_t>(order.size());
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return pi[a] < pi[b]; });
  std::vector<int64_t> group_start;
  for (int64_t t = 0; t < kept; ++t)
    if (t == 0 || pi[order[t]] != pi[order[t - 1]]) group_start.push_back(t);
  group_start.push_back(kept);

  const float* pd = dout.data<float>();
  float* pt = dtable.data<float>();
  const auto groups = static_cast<int64_t>(group_start.size()) - 1;
  for_blocks(groups, 1, [&](int64_t g, int64_t) {
    float* row = pt + (pi[order[group_start[g]]] - vocab_start) * d;
    for (int64_t t = group_start[g]; t < group_start[g + 1]; ++t) {
      const float* src = pd + order[t] * d;
      for (int64_t j = 0; j < d; ++j) row[j] += src[j];
    }
  });
}

}  // namespace stilts::cpu
