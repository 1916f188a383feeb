#include <cblas.h>

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {

void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
            float alpha, float beta) {
  const int64_t lda = a.dim(-1), ldb = b.dim(-1);
  const int64_t m = transpose_a ? lda : flat_rows(a);
  const int64_t k = transpose_a ? flat_rows(a) : lda;
  const int64_t n = transpose_b ? flat_rows(b) : ldb;
  float* pc = c.data<float>();
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // BLAS rejects a zero leading dimension; an empty product leaves beta * c, with beta 0
    // overwriting (NaN included) as BLAS does.
    for_blocks(m * n, kBlock, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) pc[i] = beta == 0.0f ? 0.0f : beta * pc[i];
    });
    return;
  }
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a.data<float>(), static_cast<int>(lda), b.data<float>(),
              static_cast<int>(ldb), beta, pc, static_cast<int>(n));
}

}  // namespace stilts::cpu
