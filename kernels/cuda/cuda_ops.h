// The CUDA backend of kernels/ops.h: bf16 or f32 storage as ops.h allows ("floating"), f32
// accumulation, GEMMs through cuBLASLt, every kernel on the one compute stream of
// kernels/cuda/context.h. Same names, signatures and semantics as kernels/cpu/cpu_ops.h;
// kernels/ops.cc validates every argument before calling these. The bucket table of the
// relative position bias is built on the host (ops::relative_position_buckets) and copied up.
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace stilts::cuda {

using ops::AdafactorStep;
using ops::AdamWStep;
using ops::AttentionShape;

void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
            float alpha, float beta);

void fill(Tensor& x, float value);
void cast(const Tensor& src, Tensor& dst);
bool all_finite(const Tensor& x);
void add_inplace(Tensor& acc, const Tensor& x, float alpha);
void scale_inplace(Tensor& x, float alpha);
void fill_normal(Tensor& x, float mean, float std, RngKey key, int64_t first);
double sum(const Tensor& x);
double sum_squares(const Tensor& x);
void argmax_rows(const Tensor& x, Tensor& out);
void gather_rows(const Tensor& x, const Tensor& index, Tensor& out);

void embedding_forward(const Tensor& ids, const Tensor& table, Tensor& out, int64_t vocab_start,
                       int64_t vocab_size);
void embedding_backward(const Tensor& ids, const Tensor& dout, Tensor& dtable, int64_t vocab_start,
                        int64_t vocab_size);

void rmsnorm_forward(const Tensor& x, const Tensor& weight, float eps, Tensor& out, Tensor& rstd);
void rmsnorm_backward(const Tensor& dout, const Tensor& x, const Tensor& weight, const Tensor& rstd,
                      Tensor& dx, Tensor& dweight);

void position_bias_forward(const Tensor& buckets, const Tensor& table, Tensor& bias);
void position_bias_backward(const Tensor& buckets, const Tensor& dbias, Tensor& dtable);

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                       const Tensor& key_mask, const AttentionShape& shape, Tensor& probs,
                       Tensor& out);
void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& probs, const AttentionShape& shape, Tensor& dq, Tensor& dk,
                        Tensor& dv, Tensor& dbias);

void gated_gelu_forward(const Tensor& gate, const Tensor& linear, Tensor& out);
void gated_gelu_backward(const Tensor& dout, const Tensor& gate, const Tensor& linear,
                         Tensor& dgate, Tensor& dlinear);

void dropout_forward(const Tensor& x, float rate, RngKey key, Tensor& out);
void dropout_backward(const Tensor& dout, float rate, RngKey key, Tensor& dx);

void cross_entropy_forward(const Tensor& logits, const Tensor& targets, int ignore_index,
                           float z_loss, Tensor& losses, Tensor& logsumexp);
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& logsumexp,
                            int ignore_index, float z_loss, float grad_scale, Tensor& dlogits);
void cross_entropy_partial_forward(const Tensor& logits, const Tensor& targets, int64_t vocab_start,
                                   int64_t vocab_size, int ignore_index, Tensor& row_max,
                                   Tensor& target_logit);
void cross_entropy_sum_exp(const Tensor& logits, const Tensor& targets, int ignore_index,
                           const Tensor& row_max, Tensor& sum_exp);
void cross_entropy_combine_losses(const Tensor& targets, int ignore_index, const Tensor& row_max,
                                  const Tensor& sum_exp, const Tensor& target_logit, float z_loss,
                                  Tensor& losses);
void cross_entropy_partial_backward(const Tensor& logits, const Tensor& targets,
                                    int64_t vocab_start, int ignore_index, const Tensor& row_max,
                                    const Tensor& sum_exp, float z_loss, float grad_scale,
                                    Tensor& dlogits);

void adafactor_sums(const Tensor& param, const Tensor& grad, float eps1, Tensor& row_sums,
                    Tensor& col_sums, Tensor& param_sum_squares);
void adafactor_average(Tensor& stat, const Tensor& sums, int64_t count, const AdafactorStep& s,
                       Tensor& total);
void adafactor_average_squares(Tensor& full, const Tensor& grad, const AdafactorStep& s);
void adafactor_update_sum_squares(const Tensor& grad, const Tensor& row, const Tensor& col,
                                  const Tensor& full, double row_mean, Tensor& update_sum_squares);
// scale and decay: rho / max(1, RMS(update) / clip_threshold) and weight_decay * rho, which
// ops::adafactor_apply computes from the totals.
void adafactor_apply(Tensor& param, const Tensor& grad, const Tensor& row, const Tensor& col,
                     const Tensor& full, Tensor& momentum, double row_mean, float scale,
                     float decay, float beta1);
void adamw_update(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s);

}  // namespace stilts::cuda
