// The one interface to numeric work. core/ calls only these functions; each validates its
// arguments once (kernels/ops.cc) and runs the kernel of the tensors' device under the same
// name and with the same arguments: cpu::<op> in kernels/cpu/ or cuda::<op> in kernels/cuda/,
// for every op of kernels/op_list.h.
//
// Conventions, shared by every op:
// - Shapes are row-major. "[N, d]" means any tensor whose last dimension is d, with all
//   leading dimensions flattened into N.
// - Forward ops overwrite their outputs.
// - Backward ops ACCUMULATE (+=) into every gradient they produce, so a tensor used in
//   several places (the shared position bias, a residual stream) collects its gradient
//   without extra buffers. Callers zero gradients once per step. cross_entropy_backward and
//   cross_entropy_partial_backward are the exceptions: they write dlogits, a fresh buffer.
// - Reductions use a fixed order (static OpenMP schedules, fixed thread counts on the CPU;
//   fixed grids and no floating-point atomics on the GPU), so the same inputs always give
//   bit-identical outputs. Where both backends follow one order (kernels/reduction_order.h),
//   they also give each other's bits; elsewhere they agree to rounding.
// - Precision. The CPU backend computes in f32 and takes only f32 floating tensors. The CUDA
//   backend also takes bf16 wherever the text below says "floating": activations and their
//   gradients, the bf16 compute copy of the weights, logits (RMSNorm, dropout and add_inplace
//   mix the two per argument: an f32 residual stream, core/model.h). It reads bf16, computes and
//   accumulates in f32, and rounds once on the store. Tensors documented as f32 stay f32 on every
//   device: statistics (rstd, logsumexp, row_max, losses), masks, weight gradients (dweight,
//   dtable) and everything the optimizers touch (master weights, their gradients and state).
#pragma once

#include <cstdint>

#include "kernels/philox.h"
#include "kernels/tensor.h"

namespace stilts::ops {

// ---- dense algebra --------------------------------------------------------------------
// c = alpha * op(a) · op(b) + beta * c, with a, b, c viewed as 2-D matrices ([N, last]).
// op(a) is [M, K], op(b) is [K, N2], c is [M, N2]. a and b share a floating dtype; c may be
// f32 while a and b are bf16 (a weight gradient accumulated in f32). A linear layer y = x·Wᵀ is
// matmul(x, false, W, true, y).
void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
            float alpha = 1.0f, float beta = 0.0f);

// ---- elementwise and reductions -------------------------------------------------------
// Every tensor here is floating (f32, or bf16 on the GPU) unless stated.
void fill(Tensor& x, float value);
// Same numel, same dtype, any two devices (the host-device transfer).
void copy(const Tensor& src, Tensor& dst);
// dst = src converted, same numel and device: f32 to bf16 rounds to nearest even, bf16 to f32
// is exact, equal dtypes copy. Runs on the CPU too, so host data can be prepared in bf16.
void cast(const Tensor& src, Tensor& dst);
// False when x holds a NaN or an infinity (the debug mode's check after every op).
bool all_finite(const Tensor& x);
void add_inplace(Tensor& acc, const Tensor& x, float alpha = 1.0f);  // acc += alpha * x
void scale_inplace(Tensor& x, float alpha);
// x[i] = mean + std * N(0,1) from Philox (Box-Muller), element i being element first + i of
// the draw, which comes from the uniforms (key, 2(first+i)) and (key, 2(first+i)+1): the same
// on every device and thread count, and a slice of a tensor can be drawn alone.
void fill_normal(Tensor& x, float mean, float std, RngKey key, int64_t first = 0);
double sum(const Tensor& x);          // f64 accumulation
double sum_squares(const Tensor& x);  // f64 accumulation
// out[i] = argmax_j x[i, j] (first maximum on ties). x [N, V], out i32 [N].
void argmax_rows(const Tensor& x, Tensor& out);
// out[i] = x[i, index[i]]; x [N, V], index i32 [N], out f32 [N]. Rows whose index is
// outside [0, V) give 0 (used with ignore_index = -100 for label log-probabilities).
void gather_rows(const Tensor& x, const Tensor& index, Tensor& out);

// ---- embedding ------------------------------------------------------------------------
// ids i32 [N] over a vocabulary of vocab_size (0: the table's rows), out [N, d]. The table
// holds rows [vocab_start, vocab_start + rows) of it (a vocab-parallel shard): an id in that
// range reads its row, any other id of the vocabulary gives a zero row (forward) or nothing
// (backward), and an id outside [0, vocab_size) is an error naming the id. table, out and dout
// are floating; dtable is f32.
void embedding_forward(const Tensor& ids, const Tensor& table, Tensor& out, int64_t vocab_start = 0,
                       int64_t vocab_size = 0);
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable,
                        int64_t vocab_start = 0, int64_t vocab_size = 0);

// ---- RMSNorm (T5LayerNorm) ------------------------------------------------------------
// out = weight * x * rstd, rstd[i] = 1/sqrt(mean_j x[i,j]^2 + eps), statistics in f32.
// x, out [N, d] and weight [d] floating; rstd f32 [N] saved for backward; dx floating, dweight
// f32.
void rmsnorm_forward(const Tensor& x, const Tensor& weight, float eps, Tensor& out, Tensor& rstd);
void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                      Tensor& dx, Tensor& dweight);

// ---- relative position bias -----------------------------------------------------------
// The T5 bucket of relative position (key - query), computed on the host with IEEE logf.
int relative_position_bucket(int64_t relative_position, bool bidirectional, int num_buckets,
                             int max_distance);
// i32 [q_len, k_len] bucket table on the CPU for queries at absolute positions
// q_offset .. q_offset + q_len - 1 and keys at 0 .. k_len - 1 (q_offset > 0 when decoding
// with a KV cache).
Tensor relative_position_buckets(int64_t q_len, int64_t k_len, int64_t q_offset, bool bidirectional,
                                 int num_buckets, int max_distance);
// buckets i32 [Lq, Lk], table [num_buckets, H], bias [H, Lq, Lk]:
// bias[h, i, j] = table[buckets[i, j], h]. table and bias floating, dtable f32.
void position_bias_forward(const Tensor& buckets, const Tensor& table, Tensor& bias);
void position_bias_backward(const Tensor& buckets, const Tensor& dbias, Tensor& dtable);

// ---- attention ------------------------------------------------------------------------
// T5 attention without 1/sqrt(d_kv) scaling, per batch b and head h:
//   s = q_h · k_hᵀ + bias[h]         (bias [H, Lq, Lk], or undefined for cross-attention)
//   s[i, j] masked when key_mask[b, j] == 0 (key_mask f32 [B, Lk] of 0/1, or undefined)
//     or, when causal, when j > i + (Lk - Lq)
//   p = softmax(s) over unmasked keys (a row with every key masked is uniform over all keys,
//     as Hugging Face's additive finfo.min mask gives)
//   out_h = dropout(p) · v_h
// q [B, Lq, H*Dh], k and v [B, Lk, H*Dh], out [B, Lq, H*Dh], probs [B, H, Lq, Lk] (p before
// dropout, saved for backward). Dropout element index is the flat index into probs. Every
// tensor but key_mask is floating, gradients included.
struct AttentionShape {
  int64_t num_heads;
  bool causal;
  float dropout_rate;
  RngKey dropout_key;
};
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                       const Tensor& key_mask, const AttentionShape& shape, Tensor& probs,
                       Tensor& out);
// Accumulates dq, dk, dv and (when defined) dbias [H, Lq, Lk], summed over the batch. A row
// with every key masked back-propagates as an ordinary softmax row over its uniform
// probabilities, as autograd does through Hugging Face's additive mask.
void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const AttentionShape& shape, Tensor& dq, Tensor& dk,
                        Tensor& dv, Tensor& dbias);

// ---- gated-GELU feed-forward activation ------------------------------------------------
// out = gelu_new(gate) * linear, gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// gate, linear, out [N, F], all floating.
void gated_gelu_forward(const Tensor& gate, const Tensor& linear, Tensor& out);
void gated_gelu_backward(const Tensor& dout, const Tensor& gate, const Tensor& linear,
                         Tensor& dgate, Tensor& dlinear);

// ---- dropout ---------------------------------------------------------------------------
// Element i is kept iff uniform(key, i) >= rate and then scaled by 1/(1-rate). rate 0 is the
// identity. out may be the same tensor as x. Floating.
void dropout_forward(const Tensor& x, float rate, RngKey key, Tensor& out);
void dropout_backward(const Tensor& dout, float rate, RngKey key, Tensor& dx);

// ---- cross-entropy ---------------------------------------------------------------------
// logits [N, V] floating, targets i32 [N], every statistic f32. For each row whose target !=
// ignore_index:
//   logsumexp[i] = log sum_j exp(logits[i, j])
//   losses[i]    = logsumexp[i] - logits[i, target] + z_loss * logsumexp[i]^2
// Ignored rows get losses[i] = 0 and logsumexp[i] = 0 (they are skipped). A target outside
// [0, V) that is not ignore_index is an error naming the row and the value.
void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int ignore_index,
                           float z_loss, Tensor& losses, Tensor& logsumexp);
// WRITES dlogits = grad_scale * d(losses[i])/d(logits) for kept rows, 0 for ignored rows.
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& logsumexp,
                            int ignore_index, float z_loss, float grad_scale, Tensor& dlogits);

// ---- vocab-parallel cross-entropy pieces -------------------------------------------------
// The per-row work of the cross-entropy above when each rank holds a slice of the vocabulary:
// logits [N, Vl] are columns [vocab_start, vocab_start + Vl) of the full [N, V] logits and
// targets i32 [N] index the full vocabulary. The caller combines the partial statistics over
// the slices between the calls (MAX of row_max, SUM of target_logit, SUM of sum_exp, which
// each slice computes against the combined row_max), so the results equal
// cross_entropy_forward/backward on the full logits. Ignored rows are skipped and get 0 in every
// output.
//
// row_max[i] = max_j logits[i, j]; target_logit[i] = logits[i, target - vocab_start] when this
// slice owns the target, else 0. A target outside [0, vocab_size) that is not ignore_index is
// an error naming the row and the value.
void cross_entropy_partial_forward(const Tensor& logits, const Tensor& targets, int64_t vocab_start,
                                   int64_t vocab_size, int ignore_index, Tensor& row_max,
                                   Tensor& target_logit);
// sum_exp[i] = sum_j exp(logits[i, j] - row_max[i]), with row_max the maximum over every slice.
void cross_entropy_sum_exp(const Tensor& logits, const Tensor& targets, int ignore_index,
                           const Tensor& row_max, Tensor& sum_exp);
// From the combined statistics of every slice, all f32 [N]:
//   logsumexp = row_max + log(sum_exp); losses = logsumexp - target_logit + z_loss logsumexp^2
void cross_entropy_combine_losses(const Tensor& targets, int ignore_index, const Tensor& row_max,
                                  const Tensor& sum_exp, const Tensor& target_logit, float z_loss,
                                  Tensor& losses);
// WRITES this slice's dlogits [N, Vl] = grad_scale * d(losses[i])/d(logits), from the combined
// row_max and sum_exp: no communication, the owner of the target subtracts the one-hot.
// dlogits may be the logits tensor itself (each element is read before it is written), so
// the head needs one [N, Vl] buffer, not two.
void cross_entropy_partial_backward(const Tensor& logits, const Tensor& targets,
                                    int64_t vocab_start, int ignore_index, const Tensor& row_max,
                                    const Tensor& sum_exp, float z_loss, float grad_scale,
                                    Tensor& dlogits);

// ---- optimizers ------------------------------------------------------------------------
// Hugging Face's Adafactor step for one parameter (transformers.optimization.Adafactor):
//   rho = lr, times max(eps2, RMS(param)) when scale_parameter
//   beta2t = 1 - step^decay_rate; u = grad^2 + eps1
//   factored (param rank 2 [R, C], state row [R] and col [C]):
//     row = beta2t row + (1-beta2t) mean_cols(u); col = beta2t col + (1-beta2t) mean_rows(u)
//     update = grad * rsqrt(row / mean(row))[:, None] * rsqrt(col)[None, :]
//   otherwise (state full [numel]): full = beta2t full + (1-beta2t) u; update = grad*rsqrt(full)
//   update /= max(1, RMS(update) / clip_threshold); update *= rho
//   if beta1 > 0 (momentum state): momentum = beta1 m + (1-beta1) update; update = momentum
//   if weight_decay: param -= weight_decay * rho * param
//   param -= update
//
// The step comes in four stages, so that a matrix split over tensor-parallel ranks (each holding
// a block of its rows or of its columns, with the matching slice of row or col) takes exactly
// the step of the whole matrix: every mean and RMS above spans the whole matrix, so the stages
// write this block's SUMS (f64 accumulation, f32 results) and the caller adds them over the
// ranks between stages; the counts and totals passed in are the whole matrix's.
//   1. adafactor_sums: u summed per row and per column of the block, and param^2 summed.
//      (caller: sum the partial ones over the ranks)
//   2. adafactor_average (row, col) or adafactor_average_squares (full): the second moments;
//      the sum of the new row statistic for mean(row). (caller: sum it when row is split)
//   3. adafactor_update_sum_squares: the sum of the unclipped update squared.
//      (caller: sum it over the ranks)
//   4. adafactor_apply: clipping, scaling, momentum, weight decay, the update.
// On one rank, with nothing to add, the four in a row are the whole step.
struct AdafactorStep {
  float lr;
  int64_t step;  // 1-based
  float eps1 = 1e-30f;
  float eps2 = 1e-3f;
  float clip_threshold = 1.0f;
  float decay_rate = -0.8f;
  float beta1 = 0.0f;
  float weight_decay = 0.0f;
  bool scale_parameter = false;
};
// Stage 1. factored (grad [R, C], row_sums f32 [R] and col_sums f32 [C] both defined):
// row_sums[i] = sum_j u[i, j], col_sums[j] = sum_i u[i, j]; unfactored: both undefined.
// param_sum_squares f32 [1] (when defined) = sum param^2.
void adafactor_sums(const Tensor& param, const Tensor& grad, float eps1, Tensor& row_sums,
                    Tensor& col_sums, Tensor& param_sum_squares);
// Stage 2, factored: stat = beta2t stat + (1-beta2t) sums / count for row (sums = row_sums,
// count = the whole matrix's columns) and for col (col_sums, its rows). total f32 [1] (when
// defined) = sum of the new stat.
void adafactor_average(Tensor& stat, const Tensor& sums, int64_t count, const AdafactorStep& s,
                       Tensor& total);
// Stage 2, unfactored: full = beta2t full + (1-beta2t) (grad^2 + eps1).
void adafactor_average_squares(Tensor& full, const Tensor& grad, const AdafactorStep& s);
// The whole parameter's sums that stages 3 and 4 need.
struct AdafactorTotals {
  int64_t numel = 1;                // elements of the whole parameter
  double row_mean = 1.0;            // mean of the whole row statistic (factored)
  double param_sum_squares = 0.0;   // sum of the whole param^2 (scale_parameter)
  double update_sum_squares = 0.0;  // sum of the whole unclipped update^2 (stage 4)
};
// Stage 3: update_sum_squares f32 [1] = sum of the unclipped update^2 over this block, from
// the new row and col (factored, with t.row_mean) or full.
void adafactor_update_sum_squares(const Tensor& grad, const Tensor& row, const Tensor& col,
                                  const Tensor& full, const AdafactorTotals& t,
                                  Tensor& update_sum_squares);
// Stage 4: the update of param from the unclipped update of stage 3, clipped by
// t.update_sum_squares / t.numel and scaled by rho (from t.param_sum_squares); momentum f32
// [numel] exactly when s.beta1 > 0.
void adafactor_apply(Tensor& param, const Tensor& grad, const Tensor& row, const Tensor& col,
                     const Tensor& full, Tensor& momentum, const AdafactorTotals& t,
                     const AdafactorStep& s);
// The scalars of stage 4, which both kernels of adafactor_apply take from here so that every
// backend and every block of the parameter uses the same: scale = rho / max(1, RMS(update) /
// clip_threshold) and decay = weight_decay * rho.
struct AdafactorScalars {
  float scale;
  float decay;
};
AdafactorScalars adafactor_scalars(const AdafactorTotals& t, const AdafactorStep& s);

// PyTorch's AdamW step (decoupled weight decay, bias-corrected):
//   param *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
//   param -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
struct AdamWStep {
  float lr;
  int64_t step;  // 1-based
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
};
void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s);

// Sets the number of threads every CPU kernel and OpenBLAS use (one pool per process).
void set_cpu_threads(int threads);
int cpu_threads();

}  // namespace stilts::ops
