// T5 attention on the GPU (kernels/ops.h): the products of every (batch, head) pair through
// cuBLASLt strided-batched GEMMs that read the heads in place in the [B, L, H*Dh] activations,
// and between them one fused kernel per direction: bias + mask + causal + softmax (+ dropout)
// forward, dropout + softmax backward.
//
// Memory: every cell of every pair is materialized. Forward holds the f32 scores [B, H, Lq, Lk]
// beside probs and, with dropout, the dropped probabilities (T each): 4 + 2 * sizeof(T) bytes
// per cell. Backward holds f32 dP (then dS in place), dS in T when T is bf16, and the dropped
// probabilities: up to 4 + 2 * sizeof(T) more. Fine for mT5's 512-1024 token inputs; a
// flash-style kernel that never stores the cells is the next step for long inputs.
#include <cublasLt.h>

#include <cmath>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_plan.h"
#include "kernels/cuda/numeric.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/philox.h"

namespace stilts::cuda {
namespace {

// Threads per row of the softmax kernels: rows are Lk long, 512 for mT5 inputs.
constexpr unsigned kRowThreads = 128;
constexpr unsigned kThreads = 256;

struct Dims {
  int64_t batch, heads, q_len, k_len, head_dim, width;
  Dims(const Tensor& q, const Tensor& k, int64_t num_heads)
      : batch(q.dim(0)),
        heads(num_heads),
        q_len(q.dim(1)),
        k_len(k.dim(1)),
        head_dim(q.dim(2) / num_heads),
        width(q.dim(2)) {}
  int64_t cells() const { return q_len * k_len; }
  int64_t rows() const { return batch * heads * q_len; }
};

// ---- the per-pair products ----------------------------------------------------------------

// Pair (b, h)'s row-major matrix inside a tensor: rows x cols with leading dimension ld, at
// b * sequence_step + h * head_step elements from base.
struct Operand {
  void* base;
  cudaDataType_t type;
  size_t element_size;
  int64_t rows, cols, ld;
  int64_t sequence_step, head_step;
};

template <class T>
Operand operand(T* base, int64_t rows, int64_t cols, int64_t ld, int64_t sequence_step,
                int64_t head_step) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, __nv_bfloat16>);
  return {base,          std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_16BF,
          sizeof(T),     rows,
          cols,          ld,
          sequence_step, head_step};
}

// Head h of q, k, v, out or a gradient of them, [B, len, H*Dh]: [len, Dh] with stride H*Dh.
template <class T>
Operand heads_of(const Tensor& x, int64_t len, const Dims& d) {
  return operand(device_data<T>(x), len, d.head_dim, d.width, len * d.width, d.head_dim);
}

// Pair (b, h)'s [Lq, Lk] block of a [B, H, Lq, Lk] buffer.
template <class T>
Operand cells_of(T* base, const Dims& d) {
  return operand(base, d.q_len, d.k_len, d.k_len, d.heads * d.cells(), d.cells());
}

// One strided batch cannot span every pair: pair (b, h) of [B, L, H*Dh] sits at
// b*L*H*Dh + h*Dh, not at a multiple of one stride. So a loop runs over the smaller of B and
// H, each iteration one cuBLASLt call batched over the other.
struct Batching {
  bool loop_over_heads;
  int64_t iterations, count;
  explicit Batching(const Dims& d)
      : loop_over_heads(d.heads <= d.batch),
        iterations(loop_over_heads ? d.heads : d.batch),
        count(loop_over_heads ? d.batch : d.heads) {}
  int64_t iteration_step(const Operand& x) const {
    return loop_over_heads ? x.head_step : x.sequence_step;
  }
  int64_t batch_step(const Operand& x) const {
    return loop_over_heads ? x.sequence_step : x.head_step;
  }
};

// The alignment, up to the 256 bytes cuBLASLt assumes by default, of every matrix of x that
// the calls touch, so the heuristic picks only algorithms that can read them.
uint32_t alignment_of(const Operand& x, const Batching& batching) {
  uint64_t bits = reinterpret_cast<uintptr_t>(x.base) | 256u;
  bits |= static_cast<uint64_t>(batching.iteration_step(x)) * x.element_size;
  bits |= static_cast<uint64_t>(batching.batch_step(x)) * x.element_size;
  return static_cast<uint32_t>(bits & (~bits + 1));
}

// For every pair: c = op(a) · op(b) + beta c, row-major, f32 compute. a and b share a dtype;
// c may be f32 while they are bf16 (the scores).
void pair_gemm(const Batching& batching, bool transpose_a, bool transpose_b, const Operand& a,
               const Operand& b, const Operand& c, float beta, const char* op) {
  // Row-major c = op(a) op(b) is column-major cᵀ = op(b)ᵀ op(a)ᵀ: cuBLASLt's A is our b, and a
  // row-major rows x cols matrix is its cols x rows one.
  const GemmProblem problem{.m = c.cols,
                            .n = c.rows,
                            .k = transpose_a ? a.rows : a.cols,
                            .transpose_a = transpose_b,
                            .transpose_b = transpose_a,
                            .ab_type = a.type,
                            .c_type = c.type,
                            .lda = b.ld,
                            .ldb = a.ld,
                            .ldc = c.ld,
                            .batch = static_cast<int32_t>(batching.count),
                            .stride_a = batching.batch_step(b),
                            .stride_b = batching.batch_step(a),
                            .stride_c = batching.batch_step(c),
                            .align_a = alignment_of(b, batching),
                            .align_b = alignment_of(a, batching),
                            .align_c = alignment_of(c, batching)};
  const GemmPlan& plan = gemm_plan(problem, op);
  for (int64_t it = 0; it < batching.iterations; ++it) {
    auto at = [&](const Operand& x) {
      return static_cast<char*>(x.base) + it * batching.iteration_step(x) * x.element_size;
    };
    run_gemm(plan, 1.0f, at(b), at(a), beta, at(c), op);
  }
}

// ---- the fused row kernels ----------------------------------------------------------------

// The factor of element `index` of probs under dropout, as the CPU's dropout_factors.
__device__ float dropout_factor(RngKey key, float rate, float keep_scale, int64_t index) {
  return philox_uniform(key, static_cast<uint64_t>(index)) >= rate ? keep_scale : 0.0f;
}

// One block per row (b, h, i) of scores, which it turns in place into exp(s - max) on the way.
// Writes probs and, when dropped is not null, the dropped-out probabilities.
template <class T, class TB>
__global__ void softmax_forward_kernel(float* scores, const TB* bias, const float* key_mask, Dims d,
                                       bool causal, RngKey key, float rate, float keep_scale,
                                       T* probs, T* dropped) {
  const int64_t row = blockIdx.x;
  const int64_t i = row % d.q_len, pair = row / d.q_len;
  const int64_t h = pair % d.heads, b = pair / d.heads;
  const int64_t base = row * d.k_len;
  float* s = scores + base;
  // Keys j >= visible fail the causal test.
  const int64_t visible =
      causal ? min(max(i + d.k_len - d.q_len + 1, int64_t{0}), d.k_len) : d.k_len;
  const TB* bias_row = bias != nullptr ? bias + (h * d.q_len + i) * d.k_len : nullptr;
  const float* mask = key_mask != nullptr ? key_mask + b * d.k_len : nullptr;
  float local_max = -INFINITY;
  for (int64_t j = threadIdx.x; j < visible; j += blockDim.x) {
    float x = s[j];
    if (bias_row != nullptr) x += load(bias_row, j);
    if (mask != nullptr && mask[j] == 0.0f) x = -INFINITY;
    s[j] = x;
    local_max = fmaxf(local_max, x);
  }
  __shared__ float max_scratch[32];
  __shared__ double sum_scratch[32];
  const float max = block_max(local_max, max_scratch);
  auto write = [&](int64_t j, float p) {
    store(probs, base + j, p);
    if (dropped != nullptr)
      store(dropped, base + j, dropout_factor(key, rate, keep_scale, base + j) * p);
  };
  if (max == -INFINITY) {  // no visible key: uniform over all keys, as Hugging Face's mask
    const float uniform = 1.0f / static_cast<float>(d.k_len);
    for (int64_t j = threadIdx.x; j < d.k_len; j += blockDim.x) write(j, uniform);
    return;
  }
  double local_sum = 0.0;
  for (int64_t j = threadIdx.x; j < visible; j += blockDim.x) {
    const float e = expf(s[j] - max);
    s[j] = e;
    local_sum += e;
  }
  const auto inv = static_cast<float>(1.0 / block_sum(local_sum, sum_scratch));
  for (int64_t j = threadIdx.x; j < d.k_len; j += blockDim.x)
    write(j, j < visible ? s[j] * inv : 0.0f);
}

// One block per row of dp = dout · vᵀ with P the saved probabilities and D the dropout
// factors: dp ∘= D in place, dropped = P∘D (when not null), then
// ds = P∘(dp - rowsum(dp∘P)), also into ds_f32 when that is not null (for dbias). ds may be
// dp itself (f32 activations): each thread reads an element before writing it.
template <class T>
__global__ void softmax_backward_kernel(float* dp, const T* probs, int64_t k_len, RngKey key,
                                        float rate, float keep_scale, T* dropped, T* ds,
                                        float* ds_f32) {
  const int64_t base = static_cast<int64_t>(blockIdx.x) * k_len;
  double local = 0.0;
  for (int64_t idx = base + threadIdx.x; idx < base + k_len; idx += blockDim.x) {
    float g = dp[idx];
    const float p = load(probs, idx);
    if (dropped != nullptr) {
      const float factor = dropout_factor(key, rate, keep_scale, idx);
      g *= factor;
      dp[idx] = g;
      store(dropped, idx, factor * p);
    }
    local += static_cast<double>(g) * p;
  }
  __shared__ double scratch[32];
  const auto rowsum = static_cast<float>(block_sum(local, scratch));
  for (int64_t idx = base + threadIdx.x; idx < base + k_len; idx += blockDim.x) {
    const float value = load(probs, idx) * (dp[idx] - rowsum);
    store(ds, idx, value);
    if (ds_f32 != nullptr) ds_f32[idx] = value;
  }
}

// dbias[t] += sum over the batch of ds[b, t] (t over [H, Lq, Lk]), in batch order.
template <class TB>
__global__ void bias_grad_kernel(const float* ds, int64_t batch, int64_t bias_size, TB* dbias) {
  const int64_t t = global_thread_index();
  if (t >= bias_size) return;
  double acc = 0.0;
  for (int64_t b = 0; b < batch; ++b) acc += ds[b * bias_size + t];
  store(dbias, t, load(dbias, t) + static_cast<float>(acc));
}

// ---- the two directions -------------------------------------------------------------------

float keep_scale_of(const AttentionShape& shape) {
  return 1.0f / (1.0f - shape.dropout_rate);
}

template <class T, class TB>
void forward(const Dims& d, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
             const Tensor& key_mask, const AttentionShape& shape, Tensor& probs, Tensor& out,
             const char* op) {
  const Batching batching(d);
  // Every temporary here is written in full (the products with beta 0 never read theirs).
  const Tensor scores({d.batch, d.heads, d.q_len, d.k_len}, DType::f32, Device::cuda,
                      Contents::unwritten);
  float* ps = scores.data<float>();
  pair_gemm(batching, false, true, heads_of<T>(q, d.q_len, d), heads_of<T>(k, d.k_len, d),
            cells_of(ps, d), 0.0f, op);
  T* pp = device_data<T>(probs);
  Tensor dropped;
  T* weights = pp;
  if (shape.dropout_rate > 0.0f) {
    dropped = Tensor(probs.shape(), probs.dtype(), Device::cuda, Contents::unwritten);
    weights = device_data<T>(dropped);
  }
  softmax_forward_kernel<T, TB><<<row_blocks(d.rows(), op), kRowThreads, 0, compute_stream()>>>(
      ps, bias.defined() ? device_data<TB>(bias) : nullptr,
      key_mask.defined() ? key_mask.data<float>() : nullptr, d, shape.causal, shape.dropout_key,
      shape.dropout_rate, keep_scale_of(shape), pp, dropped.defined() ? weights : nullptr);
  check_launch(op);
  pair_gemm(batching, false, false, cells_of(weights, d), heads_of<T>(v, d.k_len, d),
            heads_of<T>(out, d.q_len, d), 0.0f, op);
}

template <class T, class TB>
void backward(const Dims& d, const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
              const Tensor& probs, const AttentionShape& shape, Tensor& dq, Tensor& dk, Tensor& dv,
              Tensor& dbias, const char* op) {
  const Batching batching(d);
  const Shape cells_shape{d.batch, d.heads, d.q_len, d.k_len};
  const Tensor dp(cells_shape, DType::f32, Device::cuda, Contents::unwritten);
  float* pdp = dp.data<float>();
  pair_gemm(batching, false, true, heads_of<T>(dout, d.q_len, d), heads_of<T>(v, d.k_len, d),
            cells_of(pdp, d), 0.0f, op);
  T* pp = device_data<T>(probs);
  Tensor dropped;
  T* weights = pp;
  if (shape.dropout_rate > 0.0f) {
    dropped = Tensor(cells_shape, probs.dtype(), Device::cuda, Contents::unwritten);
    weights = device_data<T>(dropped);
  }
  // dS in the activations' dtype for the GEMMs; with bf16 activations its f32 values stay in
  // dp for dbias.
  Tensor ds_storage;
  T* ds;
  float* ds_f32 = nullptr;
  if constexpr (std::is_same_v<T, float>) {
    ds = pdp;
  } else {
    ds_storage = Tensor(cells_shape, probs.dtype(), Device::cuda, Contents::unwritten);
    ds = device_data<T>(ds_storage);
    if (dbias.defined()) ds_f32 = pdp;
  }
  softmax_backward_kernel<T><<<row_blocks(d.rows(), op), kRowThreads, 0, compute_stream()>>>(
      pdp, pp, d.k_len, shape.dropout_key, shape.dropout_rate, keep_scale_of(shape),
      dropped.defined() ? weights : nullptr, ds, ds_f32);
  check_launch(op);
  pair_gemm(batching, true, false, cells_of(weights, d), heads_of<T>(dout, d.q_len, d),
            heads_of<T>(dv, d.k_len, d), 1.0f, op);
  pair_gemm(batching, false, false, cells_of(ds, d), heads_of<T>(k, d.k_len, d),
            heads_of<T>(dq, d.q_len, d), 1.0f, op);
  pair_gemm(batching, true, false, cells_of(ds, d), heads_of<T>(q, d.q_len, d),
            heads_of<T>(dk, d.k_len, d), 1.0f, op);
  if (!dbias.defined()) return;
  const int64_t bias_size = d.heads * d.cells();
  bias_grad_kernel<TB><<<blocks_for(bias_size, kThreads), kThreads, 0, compute_stream()>>>(
      pdp, d.batch, bias_size, device_data<TB>(dbias));
  check_launch(op);
}

// The activations (q, k, v, probs, out and their gradients) share one dtype T; the bias and
// its gradient may be f32 or bf16 independently of them (TB), so a shared position bias can
// collect its gradient in f32 under bf16 activations.
void expect_one_dtype(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor& first = **tensors.begin();
  for (const Tensor* t : tensors)
    if (t->dtype() != first.dtype())
      throw std::invalid_argument(std::string(op) +
                                  ": q, k, v, probs, out and their gradients must share one "
                                  "dtype, got " +
                                  first.describe() + " and " + t->describe());
}

// body(TB{}) after the dtype of bias or dbias; without one, TB is unused.
template <class Body>
void with_bias_dtype(const Tensor& bias, const char* op, Body body) {
  if (!bias.defined()) return body(float{});
  with_floating(bias, op, body);
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                       const Tensor& key_mask, const AttentionShape& shape, Tensor& probs,
                       Tensor& out) {
  const char* op = "attention_forward";
  expect_one_dtype(op, {&q, &k, &v, &probs, &out});
  const Dims d(q, k, shape.num_heads);
  if (d.batch == 0) return;
  with_floating(q, op, [&](auto tag) {
    with_bias_dtype(bias, op, [&](auto bias_tag) {
      forward<decltype(tag), decltype(bias_tag)>(d, q, k, v, bias, key_mask, shape, probs, out, op);
    });
  });
}

void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const AttentionShape& shape, Tensor& dq, Tensor& dk,
                        Tensor& dv, Tensor& dbias) {
  const char* op = "attention_backward";
  expect_one_dtype(op, {&dout, &q, &k, &v, &probs, &dq, &dk, &dv});
  const Dims d(q, k, shape.num_heads);
  if (d.batch == 0) return;
  with_floating(q, op, [&](auto tag) {
    with_bias_dtype(dbias, op, [&](auto bias_tag) {
      backward<decltype(tag), decltype(bias_tag)>(d, dout, q, k, v, probs, shape, dq, dk, dv, dbias,
                                                  op);
    });
  });
}

}  // namespace stilts::cuda
