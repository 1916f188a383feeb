// matmul through cuBLASLt. cuBLAS is column-major and a row-major [r, c] matrix read
// column-major is its transpose, so the row-major c = op(a)·op(b) is computed as the
// column-major cᵀ = op(b)ᵀ·op(a)ᵀ: cuBLAS's A is our b, its B our a, and no data moves.
//
// Each distinct problem (sizes, transposes, dtypes, pointer alignments) gets a plan once:
// descriptors and the algorithm of cuBLASLt's heuristic. The plans live as long as the process;
// a run sees a few dozen shapes. A fixed algorithm with a fixed workspace gives bit-identical
// results run to run.
#include <algorithm>
#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernels/cuda/context.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/numeric.cuh"

namespace stilts::cuda {
namespace {

// In cuBLAS's column-major terms: op(A) is [m, k], op(B) is [k, n], C is [m, n].
struct PlanKey {
  int64_t m, n, k;
  bool transpose_a, transpose_b;
  DType ab_dtype, c_dtype;
  uint32_t align_a, align_b, align_c;
  auto operator<=>(const PlanKey&) const = default;
};

struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

cudaDataType_t cuda_type(DType dtype) {
  return dtype == DType::bf16 ? CUDA_R_16BF : CUDA_R_32F;
}

// The largest power of two dividing the address, up to the 256 bytes cuBLASLt may assume by
// default: a slice of a tensor can start anywhere, and an algorithm picked for aligned
// buffers would fault on it.
uint32_t alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  return static_cast<uint32_t>(std::min<uintptr_t>(256, address & (~address + 1)));
}

cublasLtMatrixLayout_t layout(DType dtype, int64_t rows, int64_t cols) {
  cublasLtMatrixLayout_t l = nullptr;
  check(cublasLtMatrixLayoutCreate(&l, cuda_type(dtype), static_cast<uint64_t>(rows),
                                   static_cast<uint64_t>(cols), rows),
        "matmul: cublasLtMatrixLayoutCreate");
  return l;
}

std::string describe(const PlanKey& key) {
  return "column-major m " + std::to_string(key.m) + ", n " + std::to_string(key.n) + ", k " +
         std::to_string(key.k) + ", transposes " + std::to_string(key.transpose_a) +
         std::to_string(key.transpose_b) + ", " + dtype_name(key.ab_dtype) + " inputs, " +
         dtype_name(key.c_dtype) + " output, alignments " + std::to_string(key.align_a) + "/" +
         std::to_string(key.align_b) + "/" + std::to_string(key.align_c);
}

Plan make_plan(const PlanKey& key) {
  Plan plan;
  check(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
        "matmul: cublasLtMatmulDescCreate");
  const cublasOperation_t op_a = key.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = key.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)),
        "matmul: setting TRANSA");
  check(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)),
        "matmul: setting TRANSB");
  // Layouts describe the stored matrices, before the transposes.
  plan.a =
      key.transpose_a ? layout(key.ab_dtype, key.k, key.m) : layout(key.ab_dtype, key.m, key.k);
  plan.b =
      key.transpose_b ? layout(key.ab_dtype, key.n, key.k) : layout(key.ab_dtype, key.k, key.n);
  plan.c = layout(key.c_dtype, key.m, key.n);

  cublasLtMatmulPreference_t preference = nullptr;
  check(cublasLtMatmulPreferenceCreate(&preference), "matmul: cublasLtMatmulPreferenceCreate");
  const size_t workspace = cublaslt_workspace_bytes();
  auto prefer = [&](cublasLtMatmulPreferenceAttributes_t attribute, const void* value,
                    size_t size) {
    check(cublasLtMatmulPreferenceSetAttribute(preference, attribute, value, size),
          "matmul: cublasLtMatmulPreferenceSetAttribute");
  };
  prefer(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &key.align_a, sizeof(key.align_a));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &key.align_b, sizeof(key.align_b));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &key.align_c, sizeof(key.align_c));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &key.align_c, sizeof(key.align_c));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      cublaslt(), plan.desc, plan.a, plan.b, plan.c, plan.c, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && found == 0))
    throw std::runtime_error("matmul: cuBLASLt has no algorithm for " + describe(key));
  check(status, "matmul: cublasLtMatmulAlgoGetHeuristic");
  plan.algo = result.algo;
  return plan;
}

const Plan& plan_for(const PlanKey& key) {
  static std::mutex mutex;
  static std::map<PlanKey, Plan> plans;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(key);
  if (it == plans.end()) it = plans.emplace(key, make_plan(key)).first;
  return it->second;
}

}  // namespace

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
  // cuBLAS's A is our b and its B our a (the file comment).
  const PlanKey key{.m = n,
                    .n = m,
                    .k = k,
                    .transpose_a = transpose_b,
                    .transpose_b = transpose_a,
                    .ab_dtype = a.dtype(),
                    .c_dtype = c.dtype(),
                    .align_a = alignment(b.raw()),
                    .align_b = alignment(a.raw()),
                    .align_c = alignment(c.raw())};
  const Plan& plan = plan_for(key);
  check(cublasLtMatmul(cublaslt(), plan.desc, &alpha, b.raw(), plan.a, a.raw(), plan.b, &beta,
                       c.raw(), plan.c, c.raw(), plan.c, &plan.algo, cublaslt_workspace(),
                       cublaslt_workspace_bytes(), compute_stream()),
        "matmul: cublasLtMatmul");
  check_launch("matmul");
}

}  // namespace stilts::cuda
