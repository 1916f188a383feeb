// matmul through cuBLASLt. cuBLAS is column-major and a row-major [r, c] matrix read
// column-major is its transpose, so the row-major c = op(a)·op(b) is computed as the
// column-major cᵀ = op(b)ᵀ·op(a)ᵀ: cuBLAS's A is our b, its B our a, and no data moves. Each
// distinct problem gets its plan once (kernels/cuda/gemm_plan.h).
#include <stdexcept>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gemm_plan.h"
#include "kernels/cuda/numeric.cuh"

namespace stilts::cuda {

// Takes bf16 a and b with a bf16 or f32 c (activations; weight gradients accumulated in f32),
// and f32 a, b and c. The f32 path computes in plain f32, not TF32, so it matches the CPU.
void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, Tensor& c,
            float alpha, float beta) {
  if (a.dtype() == DType::f32 && c.dtype() != DType::f32)
    throw std::invalid_argument("matmul: no CUDA kernel for f32 a and b with " + c.describe());
  const int64_t a_cols = a.dim(-1), b_cols = b.dim(-1);
  const int64_t a_rows = flat_rows(a), b_rows = flat_rows(b);
  const int64_t m = transpose_a ? a_cols : a_rows, k = transpose_a ? a_rows : a_cols;
  const int64_t n = transpose_b ? b_rows : b_cols;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // An empty product leaves beta * c, beta 0 overwriting (NaN included) as BLAS does.
    if (beta == 0.0f)
      fill(c, 0.0f);
    else
      scale_inplace(c, beta);
    return;
  }
  // cuBLAS's A is our b and its B our a (the file comment); stored column-major, A is [n, k]
  // or its transpose, B [k, m] or its transpose.
  auto type = [](const Tensor& t) { return t.dtype() == DType::bf16 ? CUDA_R_16BF : CUDA_R_32F; };
  const GemmProblem problem{.m = n,
                            .n = m,
                            .k = k,
                            .transpose_a = transpose_b,
                            .transpose_b = transpose_a,
                            .ab_type = type(a),
                            .c_type = type(c),
                            .lda = transpose_b ? k : n,
                            .ldb = transpose_a ? m : k,
                            .ldc = n,
                            .align_a = alignment_of_address(b.raw()),
                            .align_b = alignment_of_address(a.raw()),
                            .align_c = alignment_of_address(c.raw())};
  run_gemm(gemm_plan(problem, "matmul"), alpha, b.raw(), a.raw(), beta, c.raw(), "matmul");
  check_launch("matmul");
}

}  // namespace stilts::cuda
