// The CPU GEMM on raw row-major matrices, for the kernels that multiply blocks of a tensor in
// place (attention's per-head views) as well as for matmul. OpenBLAS when the build has it,
// else the portable loop of kernels/cpu/matmul.cc.
#pragma once

#include <cstdint>

namespace stilts::cpu {

// c = alpha op(a) · op(b) + beta c with op(a) [m, k], op(b) [k, n], c [m, n], leading
// dimensions as in BLAS (ldc may exceed n: a block of columns of a wider matrix). beta 0
// overwrites c, NaN included. The same bits for every thread count.
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);

}  // namespace stilts::cpu
