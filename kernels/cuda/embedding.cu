// Embedding lookup and its gradient on the GPU.
//
// The backward pass is deterministic without atomics and adds in the CPU's order: a stable
// radix sort (CUB) of the token positions by table row groups the tokens that share a row, in
// position order; then the first position of each group sums the group's dout rows into its
// dtable row, one thread per column. Cost: one radix sort of N keys and one pass over dout; a
// row that repeats G times (padding, frequent pieces) is G sequential row reads by one block,
// while the other rows proceed on the other multiprocessors.
#include <bit>
#include <cub/cub.cuh>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;

// out[t, j] = table[ids[t] - vocab_start, j], a zero row for another shard's id, and a zero
// row plus an error report for an id outside the vocabulary.
template <class Table, class Out>
__global__ void embedding_forward_kernel(const int* ids, const Table* table, Out* out, long long n,
                                         long long d, long long rows, long long vocab_start,
                                         long long vocab_size, DeviceErrorRecord* error) {
  const long long i = global_thread_index();
  if (i >= n * d) return;
  const long long t = i / d, j = i - t * d;
  const long long id = ids[t];
  if (id < 0 || id >= vocab_size) {
    if (j == 0) report_device_error(error, DeviceErrorKind::embedding_id_out_of_range, t, id);
    store(out, i, 0.0f);
    return;
  }
  const long long row = id - vocab_start;
  store(out, i, row >= 0 && row < rows ? load(table, row * d + j) : 0.0f);
}

// The sort key of token t: its table row, or `rows` (sorted last, then skipped) for an id of
// another shard or outside the vocabulary, which is reported.
__global__ void row_keys_kernel(const int* ids, long long n, long long rows, long long vocab_start,
                                long long vocab_size, unsigned* keys, int* positions,
                                DeviceErrorRecord* error) {
  const long long t = global_thread_index();
  if (t >= n) return;
  const long long id = ids[t];
  if (id < 0 || id >= vocab_size)
    report_device_error(error, DeviceErrorKind::embedding_id_out_of_range, t, id);
  const long long row = id - vocab_start;
  keys[t] =
      static_cast<unsigned>(id >= 0 && id < vocab_size && row >= 0 && row < rows ? row : rows);
  positions[t] = static_cast<int>(t);
}

// Block p handles sorted position p when it starts a group of equal rows.
template <class Dout>
__global__ void embedding_backward_kernel(const unsigned* sorted_rows, const int* sorted_positions,
                                          long long n, const Dout* dout, float* dtable, long long d,
                                          unsigned rows) {
  const long long p = blockIdx.x;
  const unsigned row = sorted_rows[p];
  if (row == rows || (p > 0 && sorted_rows[p - 1] == row)) return;
  float* out = dtable + static_cast<long long>(row) * d;
  for (long long j = threadIdx.x; j < d; j += blockDim.x) {
    float acc = out[j];
    for (long long q = p; q < n && sorted_rows[q] == row; ++q)
      acc += load(dout, static_cast<long long>(sorted_positions[q]) * d + j);
    out[j] = acc;
  }
}

}  // namespace

void embedding_forward(const Tensor& ids, const Tensor& table, Tensor& out, int64_t vocab_start,
                       int64_t vocab_size) {
  const int64_t n = ids.numel(), rows = table.dim(0), d = table.dim(1);
  with_floating_types(
      "embedding_forward",
      [&](auto table_tag, auto out_tag) {
        using Table = decltype(table_tag);
        using Out = decltype(out_tag);
        embedding_forward_kernel<<<blocks_for(n * d, kThreads), kThreads, 0, compute_stream()>>>(
            ids.data<int32_t>(), device_data<const Table>(table), device_data<Out>(out), n, d, rows,
            vocab_start, vocab_size, device_error_record());
      },
      table, out);
  check_launch("embedding_forward");
}

void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable, int64_t vocab_start,
                        int64_t vocab_size) {
  const char* op = "embedding_backward";
  const int64_t n = ids.numel(), rows = dtable.dim(0), d = dtable.dim(1);
  if (n == 0) return;
  Tensor keys({2, n}, DType::i32, Device::cuda, Contents::unwritten),
      positions({2, n}, DType::i32, Device::cuda, Contents::unwritten);
  auto* keys_in = static_cast<unsigned*>(keys.raw());
  unsigned* keys_out = keys_in + n;
  int* positions_in = positions.data<int32_t>();
  int* positions_out = positions_in + n;
  row_keys_kernel<<<blocks_for(n, kThreads), kThreads, 0, compute_stream()>>>(
      ids.data<int32_t>(), n, rows, vocab_start, vocab_size, keys_in, positions_in,
      device_error_record());
  check_launch(op);

  // Keys lie in [0, rows]: sorting only their low bits is enough.
  const int key_bits = std::max(1, static_cast<int>(std::bit_width(static_cast<uint64_t>(rows))));
  size_t scratch_bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, scratch_bytes, keys_in, keys_out, positions_in,
                                        positions_out, static_cast<int>(n), 0, key_bits,
                                        compute_stream()),
        op);
  Tensor scratch({static_cast<int64_t>(scratch_bytes / 4 + 1)}, DType::i32, Device::cuda,
                 Contents::unwritten);
  check(cub::DeviceRadixSort::SortPairs(scratch.raw(), scratch_bytes, keys_in, keys_out,
                                        positions_in, positions_out, static_cast<int>(n), 0,
                                        key_bits, compute_stream()),
        op);
  check_launch(op);

  with_floating(dout, op, [&](auto tag) {
    using Dout = decltype(tag);
    embedding_backward_kernel<<<blocks_for(n, 1), kThreads, 0, compute_stream()>>>(
        keys_out, positions_out, n, device_data<const Dout>(dout), dtable.data<float>(), d,
        static_cast<unsigned>(rows));
  });
  check_launch(op);
}

}  // namespace stilts::cuda
