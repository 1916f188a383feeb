// The four stages of Hugging Face's Adafactor step on the GPU (kernels/ops.h), on f32 state:
// sums accumulate in double with fixed grids and fixed orders (row sums one block per row,
// column sums through per-chunk partials added in chunk order, whole-tensor sums through
// sum_to_device), elementwise stages are one kernel each, and the update itself is one fused
// pass that recomputes the unclipped update instead of storing it.
#include <cmath>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/cuda/reduce.cuh"

namespace stilts::cuda {
namespace {

constexpr unsigned kThreads = 256;
// Rows per chunk of the column sums: each thread adds one column over a chunk, so the
// partials are [chunks, cols] and the result does not depend on the device.
constexpr int64_t kChunkRows = 256;

double beta2t(const AdafactorStep& s) {
  return 1.0 - std::pow(static_cast<double>(s.step), static_cast<double>(s.decay_rate));
}

__device__ double square_plus(float g, float eps1) {
  return static_cast<double>(g) * g + eps1;
}

__global__ void row_sums_kernel(const float* grad, int64_t cols, float eps1, float* row_sums) {
  const int64_t row = blockIdx.x;
  const float* g = grad + row * cols;
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) acc += square_plus(g[j], eps1);
  __shared__ double scratch[32];
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) row_sums[row] = static_cast<float>(acc);
}

// Block b covers the columns of column block b % column_blocks over the rows of chunk
// b / column_blocks.
__global__ void column_partials_kernel(const float* grad, int64_t rows, int64_t cols,
                                       int64_t column_blocks, float eps1, double* partial) {
  const int64_t chunk = blockIdx.x / column_blocks;
  const int64_t j = (blockIdx.x % column_blocks) * blockDim.x + threadIdx.x;
  if (j >= cols) return;
  const int64_t end = min(rows, (chunk + 1) * kChunkRows);
  double acc = 0.0;
  for (int64_t i = chunk * kChunkRows; i < end; ++i) acc += square_plus(grad[i * cols + j], eps1);
  partial[chunk * cols + j] = acc;
}

__global__ void combine_column_partials_kernel(const double* partial, int64_t chunks, int64_t cols,
                                               float* col_sums) {
  const int64_t j = global_thread_index();
  if (j >= cols) return;
  double acc = 0.0;
  for (int64_t c = 0; c < chunks; ++c) acc += partial[c * cols + j];
  col_sums[j] = static_cast<float>(acc);
}

// Terms of sum_to_device.
struct Values {
  const float* x;
  __device__ double operator()(int64_t t) const { return x[t]; }
};
struct Squares {
  const float* x;
  __device__ double operator()(int64_t t) const { return static_cast<double>(x[t]) * x[t]; }
};

// The unclipped update of element t: grad * rsqrt(row / row_mean) * rsqrt(col) (factored,
// from the factors of factors_kernel) or grad * rsqrt(full), rounded as the CPU twin rounds it.
struct UnclippedUpdate {
  const float* grad;
  const float* full;  // null when factored
  const float* row_factor;
  const float* col_factor;
  int64_t cols;
  __device__ float operator()(int64_t t) const {
    if (full != nullptr) return grad[t] / sqrtf(full[t]);
    const int64_t i = t / cols;
    return row_factor[i] * col_factor[t - i * cols] * grad[t];
  }
};

struct UpdateSquares {
  UnclippedUpdate update;
  __device__ double operator()(int64_t t) const {
    const float u = update(t);
    return static_cast<double>(u) * u;
  }
};

// factors[0, rows) = 1 / sqrt(row / row_mean) in double, factors[rows, rows + cols) =
// 1 / sqrt(col) in f32, as the CPU twin computes them.
__global__ void factors_kernel(const float* row, int64_t rows, const float* col, int64_t cols,
                               double row_mean, float* factors) {
  const int64_t t = global_thread_index();
  if (t < rows)
    factors[t] = static_cast<float>(1.0 / sqrt(row[t] / row_mean));
  else if (t < rows + cols)
    factors[t] = 1.0f / sqrtf(col[t - rows]);
}

// The update of (grad, row, col or full); `factors` receives the device buffer that the
// update reads, which must outlive the kernels that use it.
UnclippedUpdate unclipped_update(const Tensor& grad, const Tensor& row, const Tensor& col,
                                 const Tensor& full, double row_mean, Tensor& factors,
                                 const char* op) {
  if (!row.defined()) return {grad.data<float>(), full.data<float>(), nullptr, nullptr, 0};
  const int64_t rows = grad.dim(0), cols = grad.dim(1);
  factors = Tensor({rows + cols}, DType::f32, Device::cuda, Contents::unwritten);
  float* pf = factors.data<float>();
  if (rows + cols > 0) {
    factors_kernel<<<blocks_for(rows + cols, kThreads), kThreads, 0, compute_stream()>>>(
        row.data<float>(), rows, col.data<float>(), cols, row_mean, pf);
    check_launch(op);
  }
  return {grad.data<float>(), nullptr, pf, pf + rows, cols};
}

__global__ void average_kernel(int64_t n, float* stat, const float* sums, double beta,
                               double scale) {
  const int64_t t = global_thread_index();
  if (t < n) stat[t] = static_cast<float>(beta * stat[t] + scale * sums[t]);
}

__global__ void average_squares_kernel(int64_t n, float* full, const float* grad, double beta,
                                       float eps1) {
  const int64_t t = global_thread_index();
  if (t < n)
    full[t] = static_cast<float>(beta * full[t] + (1.0 - beta) * square_plus(grad[t], eps1));
}

__global__ void apply_kernel(int64_t n, float* param, UnclippedUpdate unclipped, float* momentum,
                             float scale, float decay, float beta1) {
  const int64_t t = global_thread_index();
  if (t >= n) return;
  float update = unclipped(t) * scale;
  if (momentum != nullptr) update = momentum[t] = beta1 * momentum[t] + (1.0f - beta1) * update;
  param[t] = param[t] - decay * param[t] - update;
}

}  // namespace

void adafactor_sums(const Tensor& param, const Tensor& grad, float eps1, Tensor& row_sums,
                    Tensor& col_sums, Tensor& param_sum_squares) {
  const char* op = "adafactor_sums";
  if (row_sums.defined()) {
    const int64_t rows = grad.dim(0), cols = grad.dim(1);
    const float* pg = grad.data<float>();
    if (rows > 0) {
      row_sums_kernel<<<row_blocks(rows, op), kThreads, 0, compute_stream()>>>(
          pg, cols, eps1, row_sums.data<float>());
      check_launch(op);
    }
    const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
    const int64_t column_blocks = (cols + kThreads - 1) / kThreads;
    const Tensor partial({chunks, cols}, DType::f64, Device::cuda, Contents::unwritten);
    double* pp = partial.data<double>();
    if (chunks * column_blocks > 0) {
      column_partials_kernel<<<row_blocks(chunks * column_blocks, op), kThreads, 0,
                               compute_stream()>>>(pg, rows, cols, column_blocks, eps1, pp);
      check_launch(op);
    }
    if (cols > 0) {
      combine_column_partials_kernel<<<blocks_for(cols, kThreads), kThreads, 0, compute_stream()>>>(
          pp, chunks, cols, col_sums.data<float>());
      check_launch(op);
    }
  }
  if (param_sum_squares.defined())
    sum_to_device(param.numel(), Squares{param.data<float>()}, param_sum_squares.data<float>(), op);
}

void adafactor_average(Tensor& stat, const Tensor& sums, int64_t count, const AdafactorStep& s,
                       Tensor& total) {
  const char* op = "adafactor_average";
  const double b = beta2t(s), scale = (1.0 - b) / static_cast<double>(count);
  const int64_t n = stat.numel();
  float* pstat = stat.data<float>();
  if (n > 0) {
    average_kernel<<<blocks_for(n, kThreads), kThreads, 0, compute_stream()>>>(
        n, pstat, sums.data<float>(), b, scale);
    check_launch(op);
  }
  if (total.defined()) sum_to_device(n, Values{pstat}, total.data<float>(), op);
}

void adafactor_average_squares(Tensor& full, const Tensor& grad, const AdafactorStep& s) {
  const int64_t n = full.numel();
  if (n == 0) return;
  average_squares_kernel<<<blocks_for(n, kThreads), kThreads, 0, compute_stream()>>>(
      n, full.data<float>(), grad.data<float>(), beta2t(s), s.eps1);
  check_launch("adafactor_average_squares");
}

void adafactor_update_sum_squares(const Tensor& grad, const Tensor& row, const Tensor& col,
                                  const Tensor& full, const AdafactorTotals& totals,
                                  Tensor& update_sum_squares) {
  const char* op = "adafactor_update_sum_squares";
  Tensor factors;
  const UnclippedUpdate update =
      unclipped_update(grad, row, col, full, totals.row_mean, factors, op);
  sum_to_device(grad.numel(), UpdateSquares{update}, update_sum_squares.data<float>(), op);
}

void adafactor_apply(Tensor& param, const Tensor& grad, const Tensor& row, const Tensor& col,
                     const Tensor& full, Tensor& momentum, const AdafactorTotals& totals,
                     const AdafactorStep& s) {
  const char* op = "adafactor_apply";
  const int64_t n = param.numel();
  if (n == 0) return;
  const ops::AdafactorScalars step = ops::adafactor_scalars(totals, s);
  Tensor factors;
  const UnclippedUpdate update =
      unclipped_update(grad, row, col, full, totals.row_mean, factors, op);
  apply_kernel<<<blocks_for(n, kThreads), kThreads, 0, compute_stream()>>>(
      n, param.data<float>(), update, momentum.defined() ? momentum.data<float>() : nullptr,
      step.scale, step.decay, s.beta1);
  check_launch(op);
}

}  // namespace stilts::cuda
