// The dispatcher: every argument is validated here, once for all backends, and the call goes
// to the backend of the tensors' device through the kernel table made from kernels/op_list.h.
// Error messages name the op, the argument, what was expected and what came
// (Tensor::describe()).
#include "kernels/ops.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/debug_checks.h"
#include "kernels/device.h"
#if STILTS_HAS_CUDA
#include "kernels/cuda/cuda_ops.h"
#endif

namespace stilts::ops {
namespace {

using cpu::flat_rows;

std::string str(int64_t v) {
  return std::to_string(v);
}

[[noreturn]] void fail(const char* op, const std::string& message) {
  throw std::invalid_argument(std::string(op) + ": " + message);
}

// The dtypes an argument may have: one exactly, or any floating one (f32, bf16; which of them
// a backend takes is the dispatcher's check).
struct Accept {
  DType dtype;
  bool floating = false;
  Accept(DType exactly) : dtype(exactly) {}  // NOLINT: DType::i32 reads as "exactly i32"
  static Accept any_floating() {
    Accept a(DType::f32);
    a.floating = true;
    return a;
  }
  bool admits(DType d) const {
    return floating ? (d == DType::f32 || d == DType::bf16) : d == dtype;
  }
  std::string name() const { return floating ? "floating (f32 or bf16)" : dtype_name(dtype); }
};
const Accept kFloating = Accept::any_floating();

void expect_dtype(const char* op, const char* name, const Tensor& t, Accept accept) {
  if (!t.defined()) fail(op, std::string(name) + " is undefined");
  if (!accept.admits(t.dtype()))
    fail(op, std::string(name) + " must be " + accept.name() + ", got " + t.describe());
}

// The last dimension of a tensor read as [N, d]; it needs at least one dimension.
int64_t last_dim(const char* op, const char* name, const Tensor& t, Accept dtype = DType::f32) {
  expect_dtype(op, name, t, dtype);
  if (t.rank() < 1)
    fail(op, std::string(name) + " needs at least one dimension, got " + t.describe());
  return t.dim(-1);
}

void expect_shape(const char* op, const char* name, const Tensor& t, const Shape& shape,
                  Accept dtype = DType::f32) {
  expect_dtype(op, name, t, dtype);
  if (t.shape() != shape)
    fail(op, std::string(name) + " must be " + dtype.name() + shape_string(shape) + ", got " +
                 t.describe());
}

// [rows, cols] with the leading dimensions flattened, the "[N, d]" of ops.h.
void expect_matrix(const char* op, const char* name, const Tensor& t, int64_t rows, int64_t cols,
                   Accept dtype = DType::f32) {
  if (last_dim(op, name, t, dtype) != cols || flat_rows(t) != rows)
    fail(op, std::string(name) + " must be " + dtype.name() + "[" + str(rows) + "," + str(cols) +
                 "] (leading dimensions flattened), got " + t.describe());
}

// n elements of any shape.
void expect_numel(const char* op, const char* name, const Tensor& t, int64_t n,
                  Accept dtype = DType::f32) {
  expect_dtype(op, name, t, dtype);
  if (t.numel() != n)
    fail(op, std::string(name) + " must hold " + str(n) + " " + dtype.name() + " elements, got " +
                 t.describe());
}

void expect_rank(const char* op, const char* name, const Tensor& t, int rank,
                 Accept dtype = DType::f32) {
  expect_dtype(op, name, t, dtype);
  if (t.rank() != rank)
    fail(op, std::string(name) + " must have " + str(rank) + " dimensions, got " + t.describe());
}

void expect_rate(const char* op, float rate) {
  if (!(rate >= 0.0f && rate <= 1.0f))
    fail(op, "dropout rate must lie in [0, 1], got " + std::to_string(rate));
}

void expect_step(const char* op, int64_t step) {
  if (step < 1) fail(op, "step is 1-based, got " + str(step));
}

// The bucket formula needs at least one exact bucket and a log-spaced range beyond it.
void expect_bucket_layout(const char* op, bool bidirectional, int num_buckets, int max_distance) {
  const int max_exact = (bidirectional ? num_buckets / 2 : num_buckets) / 2;
  if (max_exact < 1 || max_distance <= max_exact)
    fail(op, "num_buckets " + str(num_buckets) + " and max_distance " + str(max_distance) +
                 " leave no exact or no logarithmic buckets (bidirectional " +
                 (bidirectional ? "true" : "false") + ")");
}

// The device that every defined tensor of the call sits on (the CPU when none is defined).
// The CPU backend computes in f32 only, so a bf16 tensor there is an error naming it.
Device call_device(const char* op, std::span<const Tensor* const> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (first == nullptr)
      first = t;
    else if (t->device() != first->device())
      fail(op, "tensors on different devices: " + first->describe() + " and " + t->describe());
  }
  const Device device = first ? first->device() : Device::cpu;
  if (device == Device::cpu)
    for (const Tensor* t : tensors)
      if (t->defined() && (t->dtype() == DType::bf16 || t->dtype() == DType::f16))
        fail(op, "the CPU backend computes in f32; got " + t->describe());
  return device;
}

// The Tensor arguments of a call, in order: those the dispatch and the debug checks look at.
template <class... Args>
auto tensors_of(const Args&... args) {
  std::array<const Tensor*, (size_t{std::is_same_v<Args, Tensor>} + ... + 0)> tensors{};
  size_t i = 0;
  (
      [&] {
        if constexpr (std::is_same_v<Args, Tensor>) tensors[i++] = &args;
      }(),
      ...);
  return tensors;
}

// The two kernels of one op of kernels/op_list.h, which share the signature of ops::op:
// R(Params...).
template <class Signature>
struct Kernels;

template <class R, class... Params>
struct Kernels<R(Params...)> {
  const char* op;
  R (*cpu)(Params...);
  R (*cuda)(Params...);  // null in a build without the CUDA backend

  // Runs the kernel of the tensors' device on validated arguments; in debug mode then checks
  // every floating tensor of the call for NaN and Inf.
  R operator()(Params... args) const {
    const auto tensors = tensors_of(args...);
    const Device device = call_device(op, tensors);
    if constexpr (std::is_void_v<R>) {
      on(device, args...);
      if (debug_checks()) check_finite(op, tensors);
    } else {
      R result = on(device, args...);
      if (debug_checks()) check_finite(op, tensors);
      return result;
    }
  }

  // The kernel of `device` alone, for the ops that route themselves (kernels/op_list.h).
  R on(Device device, Params... args) const {
    if (device == Device::cpu) return cpu(args...);
    if (cuda == nullptr) throw std::runtime_error(device::cuda_unavailable_reason());
    return cuda(args...);
  }
};

// kernel::op for every op of kernels/op_list.h: cpu::op and cuda::op under one name.
namespace kernel {
#if STILTS_HAS_CUDA
#define STILTS_KERNEL(op) constexpr Kernels<decltype(ops::op)> op{#op, &cpu::op, &cuda::op};
#else
#define STILTS_KERNEL(op) constexpr Kernels<decltype(ops::op)> op{#op, &cpu::op, nullptr};
#endif
#include "kernels/op_list.h"
#undef STILTS_KERNEL
}  // namespace kernel

// Sizes of one attention call, read from q and k and checked against v and the head count.
struct AttentionDims {
  int64_t batch, q_len, k_len, width;
};

AttentionDims attention_dims(const char* op, const Tensor& q, const Tensor& k, const Tensor& v,
                             const AttentionShape& shape) {
  expect_rank(op, "q", q, 3, kFloating);
  expect_rank(op, "k", k, 3, kFloating);
  const AttentionDims d{q.dim(0), q.dim(1), k.dim(1), q.dim(2)};
  if (shape.num_heads < 1 || d.width % shape.num_heads != 0)
    fail(op, "q's width " + str(d.width) + " is not a positive multiple of num_heads " +
                 str(shape.num_heads) + " (q " + q.describe() + ")");
  if (d.q_len < 1 || d.k_len < 1 || d.width < 1)
    fail(op, "empty attention: q " + q.describe() + ", k " + k.describe());
  expect_shape(op, "k", k, {d.batch, d.k_len, d.width}, kFloating);
  expect_shape(op, "v", v, {d.batch, d.k_len, d.width}, kFloating);
  expect_rate(op, shape.dropout_rate);
  return d;
}

}  // namespace

void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
            float alpha, float beta) {
  const char* op = "matmul";
  const int64_t a_cols = last_dim(op, "a", a, kFloating), b_cols = last_dim(op, "b", b, kFloating);
  if (a.dtype() != b.dtype())
    fail(op, "a and b must share a dtype, got a " + a.describe() + " and b " + b.describe());
  const int64_t a_rows = flat_rows(a), b_rows = flat_rows(b);
  const int64_t m = transpose_a ? a_cols : a_rows, k = transpose_a ? a_rows : a_cols;
  const int64_t k_b = transpose_b ? b_cols : b_rows, n = transpose_b ? b_rows : b_cols;
  if (k != k_b)
    fail(op, "op(a) is [" + str(m) + "," + str(k) + "] but op(b) is [" + str(k_b) + "," + str(n) +
                 "] (a " + a.describe() + (transpose_a ? " transposed" : "") + ", b " +
                 b.describe() + (transpose_b ? " transposed" : "") + ")");
  expect_matrix(op, "c", c, m, n, kFloating);
  if (std::max({a_rows, a_cols, b_rows, b_cols, n}) > INT_MAX)
    fail(op, "a dimension exceeds BLAS's int: a " + a.describe() + ", b " + b.describe());
  kernel::matmul(a, transpose_a, b, transpose_b, c, alpha, beta);
}

void fill(Tensor& x, float value) {
  expect_dtype("fill", "x", x, kFloating);
  kernel::fill(x, value);
}

void copy(const Tensor& src, Tensor& dst) {
  const char* op = "copy";
  if (!src.defined()) fail(op, "src is undefined");
  expect_numel(op, "dst", dst, src.numel(), src.dtype());
  if (src.device() != dst.device() || src.device() == Device::cuda)
    device::copy_bytes(dst.raw(), dst.device(), src.raw(), src.device(), src.nbytes());
  else
    cpu::copy(src, dst);
  const Tensor* const checked[] = {&dst};
  if (debug_checks()) check_finite(op, checked);
}

void cast(const Tensor& src, Tensor& dst) {
  const char* op = "cast";
  expect_dtype(op, "src", src, kFloating);
  expect_numel(op, "dst", dst, src.numel(), kFloating);
  if (src.device() != dst.device())
    fail(op, "src and dst must share a device (copy moves between devices), got src " +
                 src.describe() + " and dst " + dst.describe());
  // kernels/op_list.h: the CPU's cast takes bf16, so it goes around the dispatch's f32 check.
  if (src.device() == Device::cpu)
    kernel::cast.on(Device::cpu, src, dst);
  else
    kernel::cast(src, dst);
}

bool all_finite(const Tensor& x) {
  expect_dtype("all_finite", "x", x, kFloating);
  // Without the debug checks, which call this op (kernels/op_list.h).
  return kernel::all_finite.on(x.device(), x);
}

void add_inplace(Tensor& acc, const Tensor& x, float alpha) {
  const char* op = "add_inplace";
  expect_dtype(op, "acc", acc, kFloating);
  expect_numel(op, "x", x, acc.numel(), kFloating);
  kernel::add_inplace(acc, x, alpha);
}

void scale_inplace(Tensor& x, float alpha) {
  expect_dtype("scale_inplace", "x", x, kFloating);
  kernel::scale_inplace(x, alpha);
}

void fill_normal(Tensor& x, float mean, float std, RngKey key, int64_t first) {
  expect_dtype("fill_normal", "x", x, kFloating);
  if (first < 0) throw std::invalid_argument("fill_normal: first must be >= 0");
  kernel::fill_normal(x, mean, std, key, first);
}

double sum(const Tensor& x) {
  expect_dtype("sum", "x", x, kFloating);
  return kernel::sum(x);
}

double sum_squares(const Tensor& x) {
  expect_dtype("sum_squares", "x", x, kFloating);
  return kernel::sum_squares(x);
}

void argmax_rows(const Tensor& x, Tensor& out) {
  const char* op = "argmax_rows";
  if (last_dim(op, "x", x, kFloating) < 1) fail(op, "x has no columns: " + x.describe());
  expect_numel(op, "out", out, flat_rows(x), DType::i32);
  kernel::argmax_rows(x, out);
}

void gather_rows(const Tensor& x, const Tensor& index, Tensor& out) {
  const char* op = "gather_rows";
  last_dim(op, "x", x, kFloating);
  expect_numel(op, "index", index, flat_rows(x), DType::i32);
  expect_numel(op, "out", out, flat_rows(x));
  kernel::gather_rows(x, index, out);
}

namespace {

// The full vocabulary size, after checking that the table's rows are a slice of it.
int64_t embedding_vocab(const char* op, const Tensor& table, int64_t vocab_start,
                        int64_t vocab_size) {
  if (vocab_size == 0) vocab_size = table.dim(0);
  if (vocab_start < 0 || vocab_start + table.dim(0) > vocab_size)
    throw std::invalid_argument(std::string(op) + ": table rows [" + std::to_string(vocab_start) +
                                ", " + std::to_string(vocab_start + table.dim(0)) +
                                ") are not inside a vocabulary of " + std::to_string(vocab_size));
  return vocab_size;
}

}  // namespace

void embedding_forward(const Tensor& ids, const Tensor& table, Tensor& out, int64_t vocab_start,
                       int64_t vocab_size) {
  const char* op = "embedding_forward";
  expect_dtype(op, "ids", ids, DType::i32);
  expect_rank(op, "table", table, 2, kFloating);
  expect_matrix(op, "out", out, ids.numel(), table.dim(1), kFloating);
  vocab_size = embedding_vocab(op, table, vocab_start, vocab_size);
  kernel::embedding_forward(ids, table, out, vocab_start, vocab_size);
}

void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable, int64_t vocab_start,
                        int64_t vocab_size) {
  const char* op = "embedding_backward";
  expect_dtype(op, "ids", ids, DType::i32);
  expect_rank(op, "dtable", dtable, 2);
  expect_matrix(op, "dout", dout, ids.numel(), dtable.dim(1), kFloating);
  vocab_size = embedding_vocab(op, dtable, vocab_start, vocab_size);
  kernel::embedding_backward(ids, dout, dtable, vocab_start, vocab_size);
}

void rmsnorm_forward(const Tensor& x, const Tensor& weight, float eps, Tensor& out, Tensor& rstd) {
  const char* op = "rmsnorm_forward";
  const int64_t d = last_dim(op, "x", x, kFloating), n = flat_rows(x);
  expect_shape(op, "weight", weight, {d}, kFloating);
  expect_matrix(op, "out", out, n, d, kFloating);
  expect_numel(op, "rstd", rstd, n);
  kernel::rmsnorm_forward(x, weight, eps, out, rstd);
}

void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                      Tensor& dx, Tensor& dweight) {
  const char* op = "rmsnorm_backward";
  const int64_t d = last_dim(op, "x", x, kFloating), n = flat_rows(x);
  expect_matrix(op, "dout", dout, n, d, kFloating);
  expect_shape(op, "weight", weight, {d}, kFloating);
  expect_numel(op, "rstd", rstd, n);
  expect_matrix(op, "dx", dx, n, d, kFloating);
  expect_shape(op, "dweight", dweight, {d});
  kernel::rmsnorm_backward(dout, x, weight, rstd, dx, dweight);
}

int relative_position_bucket(int64_t relative_position, bool bidirectional, int num_buckets,
                             int max_distance) {
  expect_bucket_layout("relative_position_bucket", bidirectional, num_buckets, max_distance);
  return cpu::relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance);
}

Tensor relative_position_buckets(int64_t q_len, int64_t k_len, int64_t q_offset, bool bidirectional,
                                 int num_buckets, int max_distance) {
  if (q_len < 0 || k_len < 0 || q_offset < 0)
    fail("relative_position_buckets", "negative q_len " + str(q_len) + ", k_len " + str(k_len) +
                                          " or q_offset " + str(q_offset));
  expect_bucket_layout("relative_position_buckets", bidirectional, num_buckets, max_distance);
  return cpu::relative_position_buckets(q_len, k_len, q_offset, bidirectional, num_buckets,
                                        max_distance);
}

void position_bias_forward(const Tensor& buckets, const Tensor& table, Tensor& bias) {
  const char* op = "position_bias_forward";
  expect_rank(op, "buckets", buckets, 2, DType::i32);
  expect_rank(op, "table", table, 2, kFloating);
  expect_shape(op, "bias", bias, {table.dim(1), buckets.dim(0), buckets.dim(1)}, kFloating);
  kernel::position_bias_forward(buckets, table, bias);
}

void position_bias_backward(const Tensor& buckets, const Tensor& dbias, Tensor& dtable) {
  const char* op = "position_bias_backward";
  expect_rank(op, "buckets", buckets, 2, DType::i32);
  expect_rank(op, "dtable", dtable, 2);
  expect_shape(op, "dbias", dbias, {dtable.dim(1), buckets.dim(0), buckets.dim(1)}, kFloating);
  kernel::position_bias_backward(buckets, dbias, dtable);
}

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                       const Tensor& key_mask, const AttentionShape& shape, Tensor& probs,
                       Tensor& out) {
  const char* op = "attention_forward";
  const AttentionDims d = attention_dims(op, q, k, v, shape);
  if (bias.defined())
    expect_shape(op, "bias", bias, {shape.num_heads, d.q_len, d.k_len}, kFloating);
  if (key_mask.defined()) expect_shape(op, "key_mask", key_mask, {d.batch, d.k_len});
  expect_shape(op, "probs", probs, {d.batch, shape.num_heads, d.q_len, d.k_len}, kFloating);
  expect_shape(op, "out", out, q.shape(), kFloating);
  kernel::attention_forward(q, k, v, bias, key_mask, shape, probs, out);
}

void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const AttentionShape& shape, Tensor& dq, Tensor& dk,
                        Tensor& dv, Tensor& dbias) {
  const char* op = "attention_backward";
  const AttentionDims d = attention_dims(op, q, k, v, shape);
  expect_shape(op, "dout", dout, q.shape(), kFloating);
  expect_shape(op, "probs", probs, {d.batch, shape.num_heads, d.q_len, d.k_len}, kFloating);
  expect_shape(op, "dq", dq, q.shape(), kFloating);
  expect_shape(op, "dk", dk, k.shape(), kFloating);
  expect_shape(op, "dv", dv, v.shape(), kFloating);
  if (dbias.defined())
    expect_shape(op, "dbias", dbias, {shape.num_heads, d.q_len, d.k_len}, kFloating);
  kernel::attention_backward(dout, q, k, v, probs, shape, dq, dk, dv, dbias);
}

void gated_gelu_forward(const Tensor& gate, const Tensor& linear, Tensor& out) {
  const char* op = "gated_gelu_forward";
  const int64_t f = last_dim(op, "gate", gate, kFloating), n = flat_rows(gate);
  expect_matrix(op, "linear", linear, n, f, kFloating);
  expect_matrix(op, "out", out, n, f, kFloating);
  kernel::gated_gelu_forward(gate, linear, out);
}

void gated_gelu_backward(const Tensor& dout, const Tensor& gate, const Tensor& linear,
                         Tensor& dgate, Tensor& dlinear) {
  const char* op = "gated_gelu_backward";
  const int64_t f = last_dim(op, "gate", gate, kFloating), n = flat_rows(gate);
  expect_matrix(op, "dout", dout, n, f, kFloating);
  expect_matrix(op, "linear", linear, n, f, kFloating);
  expect_matrix(op, "dgate", dgate, n, f, kFloating);
  expect_matrix(op, "dlinear", dlinear, n, f, kFloating);
  kernel::gated_gelu_backward(dout, gate, linear, dgate, dlinear);
}

void dropout_forward(const Tensor& x, float rate, RngKey key, Tensor& out) {
  const char* op = "dropout_forward";
  expect_dtype(op, "x", x, kFloating);
  expect_numel(op, "out", out, x.numel(), kFloating);
  expect_rate(op, rate);
  kernel::dropout_forward(x, rate, key, out);
}

void dropout_backward(const Tensor& dout, float rate, RngKey key, Tensor& dx) {
  const char* op = "dropout_backward";
  expect_dtype(op, "dout", dout, kFloating);
  expect_numel(op, "dx", dx, dout.numel(), kFloating);
  expect_rate(op, rate);
  kernel::dropout_backward(dout, rate, key, dx);
}

void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int ignore_index,
                           float z_loss, Tensor& losses, Tensor& logsumexp) {
  const char* op = "cross_entropy_forward";
  if (last_dim(op, "logits", logits, kFloating) < 1)
    fail(op, "logits have no columns: " + logits.describe());
  const int64_t n = flat_rows(logits);
  expect_numel(op, "targets", targets, n, DType::i32);
  expect_numel(op, "losses", losses, n);
  expect_numel(op, "logsumexp", logsumexp, n);
  kernel::cross_entropy_forward(logits, targets, ignore_index, z_loss, losses, logsumexp);
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& logsumexp,
                            int ignore_index, float z_loss, float grad_scale, Tensor& dlogits) {
  const char* op = "cross_entropy_backward";
  const int64_t v = last_dim(op, "logits", logits, kFloating), n = flat_rows(logits);
  expect_numel(op, "targets", targets, n, DType::i32);
  expect_numel(op, "logsumexp", logsumexp, n);
  expect_matrix(op, "dlogits", dlogits, n, v, kFloating);
  kernel::cross_entropy_backward(logits, targets, logsumexp, ignore_index, z_loss, grad_scale,
                                 dlogits);
}

void cross_entropy_partial_forward(const Tensor& logits, const Tensor& targets, int64_t vocab_start,
                                   int64_t vocab_size, int ignore_index, Tensor& row_max,
                                   Tensor& target_logit) {
  const char* op = "cross_entropy_partial_forward";
  const int64_t v = last_dim(op, "logits", logits, kFloating), n = flat_rows(logits);
  if (v < 1) fail(op, "logits have no columns: " + logits.describe());
  if (vocab_start < 0 || vocab_start + v > vocab_size)
    fail(op, "the slice [" + str(vocab_start) + ", " + str(vocab_start + v) + ") of logits " +
                 logits.describe() + " is not inside the vocabulary [0, " + str(vocab_size) + ")");
  expect_numel(op, "targets", targets, n, DType::i32);
  expect_numel(op, "row_max", row_max, n);
  expect_numel(op, "target_logit", target_logit, n);
  kernel::cross_entropy_partial_forward(logits, targets, vocab_start, vocab_size, ignore_index,
                                        row_max, target_logit);
}

void cross_entropy_sum_exp(const Tensor& logits, const Tensor& targets, int ignore_index,
                           const Tensor& row_max, Tensor& sum_exp) {
  const char* op = "cross_entropy_sum_exp";
  last_dim(op, "logits", logits, kFloating);
  const int64_t n = flat_rows(logits);
  expect_numel(op, "targets", targets, n, DType::i32);
  expect_numel(op, "row_max", row_max, n);
  expect_numel(op, "sum_exp", sum_exp, n);
  kernel::cross_entropy_sum_exp(logits, targets, ignore_index, row_max, sum_exp);
}

void cross_entropy_combine_losses(const Tensor& targets, int ignore_index, const Tensor& row_max,
                                  const Tensor& sum_exp, const Tensor& target_logit, float z_loss,
                                  Tensor& losses) {
  const char* op = "cross_entropy_combine_losses";
  expect_dtype(op, "targets", targets, DType::i32);
  const int64_t n = targets.numel();
  expect_numel(op, "row_max", row_max, n);
  expect_numel(op, "sum_exp", sum_exp, n);
  expect_numel(op, "target_logit", target_logit, n);
  expect_numel(op, "losses", losses, n);
  kernel::cross_entropy_combine_losses(targets, ignore_index, row_max, sum_exp, target_logit,
                                       z_loss, losses);
}

void cross_entropy_partial_backward(const Tensor& logits, const Tensor& targets,
                                    int64_t vocab_start, int ignore_index, const Tensor& row_max,
                                    const Tensor& sum_exp, float z_loss, float grad_scale,
                                    Tensor& dlogits) {
  const char* op = "cross_entropy_partial_backward";
  const int64_t v = last_dim(op, "logits", logits, kFloating), n = flat_rows(logits);
  if (vocab_start < 0) fail(op, "vocab_start must be >= 0, got " + str(vocab_start));
  expect_numel(op, "targets", targets, n, DType::i32);
  expect_numel(op, "row_max", row_max, n);
  expect_numel(op, "sum_exp", sum_exp, n);
  expect_matrix(op, "dlogits", dlogits, n, v, kFloating);
  kernel::cross_entropy_partial_backward(logits, targets, vocab_start, ignore_index, row_max,
                                         sum_exp, z_loss, grad_scale, dlogits);
}

namespace {

// Which Adafactor state comes with a parameter (or gradient) x: row [R] and col [C] for a
// factored matrix, or full [numel]; true when factored.
bool expect_adafactor_state(const char* op, const Tensor& x, const Tensor& row, const Tensor& col,
                            const Tensor& full) {
  if (row.defined() || col.defined()) {
    if (full.defined())
      fail(op,
           "either row and col (factored) or full may be given, not both; full " + full.describe());
    expect_rank(op, "grad", x, 2);
    expect_numel(op, "row", row, x.dim(0));
    expect_numel(op, "col", col, x.dim(1));
    return true;
  }
  expect_numel(op, "full", full, x.numel());
  return false;
}

// A one-element f32 output, when defined.
void expect_scalar(const char* op, const char* name, const Tensor& t) {
  if (t.defined()) expect_numel(op, name, t, 1);
}

}  // namespace

void adafactor_sums(const Tensor& param, const Tensor& grad, float eps1, Tensor& row_sums,
                    Tensor& col_sums, Tensor& param_sum_squares) {
  const char* op = "adafactor_sums";
  expect_dtype(op, "param", param, DType::f32);
  expect_shape(op, "grad", grad, param.shape());
  if (row_sums.defined() || col_sums.defined()) {
    expect_rank(op, "grad", grad, 2);
    expect_numel(op, "row_sums", row_sums, grad.dim(0));
    expect_numel(op, "col_sums", col_sums, grad.dim(1));
  }
  expect_scalar(op, "param_sum_squares", param_sum_squares);
  kernel::adafactor_sums(param, grad, eps1, row_sums, col_sums, param_sum_squares);
}

void adafactor_average(Tensor& stat, const Tensor& sums, int64_t count, const AdafactorStep& s,
                       Tensor& total) {
  const char* op = "adafactor_average";
  expect_dtype(op, "stat", stat, DType::f32);
  expect_numel(op, "sums", sums, stat.numel());
  if (count < 1) fail(op, "count must be positive, got " + str(count));
  expect_step(op, s.step);
  expect_scalar(op, "total", total);
  kernel::adafactor_average(stat, sums, count, s, total);
}

void adafactor_average_squares(Tensor& full, const Tensor& grad, const AdafactorStep& s) {
  const char* op = "adafactor_average_squares";
  expect_dtype(op, "grad", grad, DType::f32);
  expect_numel(op, "full", full, grad.numel());
  expect_step(op, s.step);
  kernel::adafactor_average_squares(full, grad, s);
}

void adafactor_update_sum_squares(const Tensor& grad, const Tensor& row, const Tensor& col,
                                  const Tensor& full, const AdafactorTotals& t,
                                  Tensor& update_sum_squares) {
  const char* op = "adafactor_update_sum_squares";
  expect_dtype(op, "grad", grad, DType::f32);
  const bool factored = expect_adafactor_state(op, grad, row, col, full);
  if (factored && !(t.row_mean > 0.0))
    fail(op, "row_mean must be positive, got " + std::to_string(t.row_mean));
  expect_numel(op, "update_sum_squares", update_sum_squares, 1);
  kernel::adafactor_update_sum_squares(grad, row, col, full, t, update_sum_squares);
}

void adafactor_apply(Tensor& param, const Tensor& grad, const Tensor& row, const Tensor& col,
                     const Tensor& full, Tensor& momentum, const AdafactorTotals& t,
                     const AdafactorStep& s) {
  const char* op = "adafactor_apply";
  expect_dtype(op, "param", param, DType::f32);
  expect_shape(op, "grad", grad, param.shape());
  const bool factored = expect_adafactor_state(op, grad, row, col, full);
  if (factored && !(t.row_mean > 0.0))
    fail(op, "row_mean must be positive, got " + std::to_string(t.row_mean));
  if ((s.beta1 > 0.0f) != momentum.defined())
    fail(op,
         "momentum must be given exactly when beta1 > 0 (beta1 " + std::to_string(s.beta1) + ")");
  if (momentum.defined()) expect_numel(op, "momentum", momentum, param.numel());
  if (t.numel < param.numel())
    fail(op, "numel " + str(t.numel) + " of the whole parameter is less than this block's " +
                 param.describe());
  if (!(s.clip_threshold > 0.0f))
    fail(op, "clip_threshold must be positive, got " + std::to_string(s.clip_threshold));
  kernel::adafactor_apply(param, grad, row, col, full, momentum, t, s);
}

AdafactorScalars adafactor_scalars(const AdafactorTotals& t, const AdafactorStep& s) {
  const auto numel = static_cast<double>(t.numel);
  double rho = s.lr;
  if (s.scale_parameter) rho *= std::max<double>(s.eps2, std::sqrt(t.param_sum_squares / numel));
  const double update_rms = std::sqrt(t.update_sum_squares / numel);
  return {static_cast<float>(rho / std::max(1.0, update_rms / s.clip_threshold)),
          static_cast<float>(s.weight_decay * rho)};
}

void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s) {
  const char* op = "adamw_update";
  expect_dtype(op, "param", param, DType::f32);
  expect_shape(op, "grad", grad, param.shape());
  expect_numel(op, "m", m, param.numel());
  expect_numel(op, "v", v, param.numel());
  expect_step(op, s.step);
  kernel::adamw_update(param, grad, m, v, s);
}

void set_cpu_threads(int threads) {
  if (threads < 1) fail("set_cpu_threads", "needs at least one thread, got " + str(threads));
  cpu::set_cpu_threads(threads);
}

int cpu_threads() {
  return cpu::cpu_threads();
}

}  // namespace stilts::ops
