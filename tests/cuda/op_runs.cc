#include "tests/cuda/op_runs.h"

#include <algorithm>

#include "kernels/philox.h"

namespace stilts::test {

// ---- attention ----------------------------------------------------------------------------

AttentionInputs::AttentionInputs(const AttentionCase& c, DType dt, uint32_t seed,
                                 const std::vector<int64_t>& key_lengths)
    : q(draw({c.batch, c.q_len, c.heads * c.head_dim}, seed, dt)),
      k(draw({c.batch, c.k_len, c.heads * c.head_dim}, seed + 1, dt)),
      v(draw({c.batch, c.k_len, c.heads * c.head_dim}, seed + 2, dt)),
      shape{c.heads, c.causal, c.dropout_rate, RngKey{seed, 99}} {
  if (c.bias) bias = draw({c.heads, c.q_len, c.k_len}, seed + 3, dt, 2.0f);
  if (!c.key_mask) return;
  key_mask = Tensor({c.batch, c.k_len});
  float* m = key_mask.data<float>();
  for (int64_t b = 0; b < c.batch; ++b) {
    int64_t length = c.k_len;
    if (!key_lengths.empty())
      length = key_lengths[static_cast<size_t>(b)];
    else if (b == 0)
      length = c.k_len - 2;
    else if (b == 1)
      length = 0;
    for (int64_t j = 0; j < c.k_len; ++j) m[b * c.k_len + j] = j < length ? 1.0f : 0.0f;
  }
}

std::vector<Tensor> AttentionInputs::forward(const AttentionCase& c, Side s) const {
  Tensor probs = poisoned({c.batch, c.heads, c.q_len, c.k_len}, s);
  Tensor out = poisoned(q.shape(), s);
  ops::attention_forward(put(q, s), put(k, s), put(v, s), c.bias ? put(bias, s) : Tensor(),
                         c.key_mask ? put_exact(key_mask, s) : Tensor(), shape, probs, out);
  return {get(probs), get(out)};
}

std::vector<Tensor> AttentionInputs::backward(const AttentionCase& c, Side s, const Tensor& probs,
                                              const Tensor& dout,
                                              const std::vector<Tensor>& start) const {
  Tensor dq = put(start[0], s), dk = put(start[1], s), dv = put(start[2], s);
  Tensor dbias = c.bias ? put(start[3], s) : Tensor();
  ops::attention_backward(put(dout, s), put(q, s), put(k, s), put(v, s), put(probs, s), shape, dq,
                          dk, dv, dbias);
  std::vector<Tensor> grads{get(dq), get(dk), get(dv)};
  if (c.bias) grads.push_back(get(dbias));
  return grads;
}

// ---- vocab-parallel cross-entropy ----------------------------------------------------------

VocabParallelResult vocab_parallel(const Tensor& logits, const Tensor& targets,
                                   const std::vector<int64_t>& bounds, float z_loss,
                                   float grad_scale, Side s) {
  const int64_t rows = logits.dim(0), vocab = logits.dim(1);
  const Side f32{s.device, DType::f32};
  const Tensor ids = put_exact(targets, s);
  std::vector<Tensor> slices;
  VocabParallelResult r;
  r.row_max = Tensor({rows});
  r.target_logit = Tensor({rows});
  r.sum_exp = Tensor({rows});
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const int64_t start = bounds[i], width = bounds[i + 1] - start;
    Tensor slice({rows, width});
    for (int64_t row = 0; row < rows; ++row)
      std::copy_n(logits.data<float>() + row * vocab + start, width,
                  slice.data<float>() + row * width);
    slices.push_back(put(slice, s));
    Tensor row_max = poisoned({rows}, f32), target_logit = poisoned({rows}, f32);
    ops::cross_entropy_partial_forward(slices.back(), ids, start, vocab, kIgnoreIndex, row_max,
                                       target_logit);
    const Tensor m = get(row_max), t = get(target_logit);
    for (int64_t row = 0; row < rows; ++row) {
      float& combined = r.row_max.data<float>()[row];
      combined = i == 0 ? m.data<float>()[row] : std::max(combined, m.data<float>()[row]);
      r.target_logit.data<float>()[row] += t.data<float>()[row];
    }
  }
  const Tensor row_max = put_exact(r.row_max, s);
  for (const Tensor& slice : slices) {
    Tensor sum_exp = poisoned({rows}, f32);
    ops::cross_entropy_sum_exp(slice, ids, kIgnoreIndex, row_max, sum_exp);
    const Tensor part = get(sum_exp);
    for (int64_t row = 0; row < rows; ++row)
      r.sum_exp.data<float>()[row] += part.data<float>()[row];
  }
  const Tensor sum_exp = put_exact(r.sum_exp, s);
  Tensor losses = poisoned({rows}, f32);
  ops::cross_entropy_combine_losses(ids, kIgnoreIndex, row_max, sum_exp,
                                    put_exact(r.target_logit, s), z_loss, losses);
  r.losses = get(losses);
  r.dlogits = Tensor({rows, vocab});
  for (size_t i = 0; i < slices.size(); ++i) {
    Tensor& slice = slices[i];
    // In place over the logits, as the head does.
    ops::cross_entropy_partial_backward(slice, ids, bounds[i], kIgnoreIndex, row_max, sum_exp,
                                        z_loss, grad_scale, slice);
    const Tensor part = get(slice);
    const int64_t width = slice.dim(1);
    for (int64_t row = 0; row < rows; ++row)
      std::copy_n(part.data<float>() + row * width, width,
                  r.dlogits.data<float>() + row * vocab + bounds[i]);
  }
  return r;
}

// ---- Adafactor -----------------------------------------------------------------------------

AdafactorState adafactor_steps(const Shape& shape, int64_t steps, const ops::AdafactorStep& options,
                               Device device, uint64_t seed) {
  const bool factored = shape.size() == 2;
  const int64_t rows = shape[0], cols = factored ? shape[1] : 1;
  AdafactorState st;
  Tensor values(shape);
  ops::fill_normal(values, 0.0f, 1.0f, RngKey{seed, 0});
  st.param = values.to(device);
  if (factored) {
    st.row = Tensor({rows}, DType::f32, device);
    st.col = Tensor({cols}, DType::f32, device);
  } else {
    st.full = Tensor(shape, DType::f32, device);
  }
  if (options.beta1 > 0.0f) st.momentum = Tensor(shape, DType::f32, device);
  for (int64_t step = 1; step <= steps; ++step) {
    ops::AdafactorStep s = options;
    s.step = step;
    Tensor host_grad(shape);
    ops::fill_normal(host_grad, 0.0f, 0.1f, RngKey{seed, static_cast<uint64_t>(step)});
    const Tensor grad = host_grad.to(device);
    Tensor row_sums, col_sums, total, none;
    if (factored) {
      row_sums = Tensor({rows}, DType::f32, device);
      col_sums = Tensor({cols}, DType::f32, device);
      total = Tensor({1}, DType::f32, device);
    }
    Tensor param_sum_squares({1}, DType::f32, device);
    ops::adafactor_sums(st.param, grad, s.eps1, row_sums, col_sums, param_sum_squares);
    ops::AdafactorTotals totals;
    totals.numel = st.param.numel();
    totals.param_sum_squares = scalar(param_sum_squares);
    if (factored) {
      ops::adafactor_average(st.row, row_sums, cols, s, total);
      ops::adafactor_average(st.col, col_sums, rows, s, none);
      totals.row_mean = scalar(total) / static_cast<double>(rows);
    } else {
      ops::adafactor_average_squares(st.full, grad, s);
    }
    Tensor update_sum_squares({1}, DType::f32, device);
    ops::adafactor_update_sum_squares(grad, st.row, st.col, st.full, totals, update_sum_squares);
    totals.update_sum_squares = scalar(update_sum_squares);
    ops::adafactor_apply(st.param, grad, st.row, st.col, st.full, st.momentum, totals, s);
  }
  return st;
}

void expect_adafactor_close(const AdafactorState& expected, const AdafactorState& actual,
                            const ops::AdafactorStep& options) {
  expect_close("param", expected.param, get(actual.param), kF32);
  if (expected.row.defined()) {
    expect_close("row", expected.row, get(actual.row), kF32);
    expect_close("col", expected.col, get(actual.col), kF32);
  } else {
    expect_close("full", expected.full, get(actual.full), kF32);
  }
  if (options.beta1 > 0.0f) expect_close("momentum", expected.momentum, get(actual.momentum), kF32);
}

}  // namespace stilts::test
