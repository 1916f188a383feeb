// cuBLASLt plans: for each distinct product, its descriptors and the algorithm of cuBLASLt's
// heuristic, made on the first call and kept for the process. The heuristic costs tens of
// microseconds a call, a run sees a few dozen problems thousands of times each, and a fixed
// algorithm with a fixed workspace gives bit-identical results run to run. Every cuBLASLt
// product of the backend (matmul.cu, the attention's per-head products in attention.cu) takes
// its plan here.
#pragma once

#include <cublasLt.h>

#include <compare>
#include <cstddef>
#include <cstdint>

namespace stilts::cuda {

// One column-major product in cuBLASLt's terms, D = alpha op(A) op(B) + beta C with D = C:
// op(A) [m, k], op(B) [k, n], C [m, n], with leading dimensions lda, ldb, ldc; `batch` such
// products whose matrices lie stride_a, stride_b, stride_c elements apart.
struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
  cudaDataType_t ab_type = CUDA_R_32F, c_type = CUDA_R_32F;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int32_t batch = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  // The alignment in bytes (a power of two up to 256) of every matrix the calls touch: a plan
  // made for aligned buffers would fault on a slice that starts anywhere.
  uint32_t align_a = 256, align_b = 256, align_c = 256;
  auto operator<=>(const GemmProblem&) const = default;
};

struct GemmPlan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

// The plan of `problem`, made on first use (thread-safe). Throws "<op>: cuBLASLt has no
// algorithm for <the problem>" when the heuristic finds none.
const GemmPlan& gemm_plan(const GemmProblem& problem, const char* op);
// Enqueues the product on the compute stream, with the backend's cuBLASLt workspace.
void run_gemm(const GemmPlan& plan, float alpha, const void* a, const void* b, float beta, void* c,
              const char* op);
// How many plans gemm_plan has made (device::cublaslt_plans).
size_t plans_made();
// The largest power of two dividing `address`, up to 256.
uint32_t alignment_of_address(const void* address);

}  // namespace stilts::cuda
