// The CPU GEMM: OpenBLAS's sgemm when the build has OpenBLAS (always in the full build), else a
// portable cache-blocked loop for the minimal build of a bare GPU machine (README "GPU"), where
// the CPU ops only serve as the reference of the GPU tests: correct and deterministic, not
// fast.
#include "kernels/cpu/gemm.h"

#ifdef STILTS_HAS_OPENBLAS
#include <cblas.h>
#endif

#include "kernels/cpu/common.h"
#include "kernels/cpu/cpu_ops.h"

namespace stilts::cpu {
namespace {

// The m rows of n columns of c *= beta, where beta 0 overwrites (NaN included) as BLAS does.
void scale_output(float* c, int64_t m, int64_t n, int64_t ldc, float beta) {
  constexpr int64_t kScaleRows = 64;  // rows per block: any size gives the same result
  for_blocks(m, kScaleRows, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
  });
}

#ifndef STILTS_HAS_OPENBLAS
// Tile sizes of the portable GEMM: a packed [kDepth, kColumns] panel of op(b) (64 KiB) stays
// in L2 while the kRows rows of a thread's block of c stream over it.
constexpr int64_t kRows = 32, kDepth = 128, kColumns = 128;

// c += alpha op(a) · op(b). Each thread owns a block of rows of c and adds the products over
// k in increasing order, so the result is the same for every thread count.
void portable_gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                   int64_t ldc) {
  for_blocks(m, kRows, [&](int64_t row_begin, int64_t row_end) {
    auto panel = scratch(kDepth * kColumns);
    for (int64_t j0 = 0; j0 < n; j0 += kColumns) {
      const int64_t nb = std::min(kColumns, n - j0);
      for (int64_t p0 = 0; p0 < k; p0 += kDepth) {
        const int64_t kb = std::min(kDepth, k - p0);
        for (int64_t p = 0; p < kb; ++p)
          for (int64_t j = 0; j < nb; ++j)
            panel[p * nb + j] =
                transpose_b ? b[(j0 + j) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + j];
        for (int64_t i = row_begin; i < row_end; ++i) {
          float* c_row = c + i * ldc + j0;
          for (int64_t p = 0; p < kb; ++p) {
            const float a_ip = alpha * (transpose_a ? a[(p0 + p) * lda + i] : a[i * lda + p0 + p]);
            const float* panel_row = panel.get() + p * nb;
            for (int64_t j = 0; j < nb; ++j) c_row[j] += a_ip * panel_row[j];
          }
        }
      }
    }
  });
}
#endif

}  // namespace

void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef STILTS_HAS_OPENBLAS
  if (k == 0) {
    // BLAS rejects a zero leading dimension; an empty product leaves beta * c.
    scale_output(c, m, n, ldc, beta);
    return;
  }
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
#else
  scale_output(c, m, n, ldc, beta);
  portable_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, c, ldc);
#endif
}

void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
            float alpha, float beta) {
  const int64_t lda = a.dim(-1), ldb = b.dim(-1);
  const int64_t m = transpose_a ? lda : flat_rows(a);
  const int64_t k = transpose_a ? flat_rows(a) : lda;
  const int64_t n = transpose_b ? flat_rows(b) : ldb;
  gemm(transpose_a, transpose_b, m, n, k, alpha, a.data<float>(), lda, b.data<float>(), ldb, beta,
       c.data<float>(), n);
}

}  // namespace stilts::cpu
