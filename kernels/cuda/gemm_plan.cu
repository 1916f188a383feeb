#include "kernels/cuda/gemm_plan.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "kernels/cuda/context.h"

namespace stilts::cuda {
namespace {

std::string type_name(cudaDataType_t type) {
  return type == CUDA_R_16BF ? "bf16" : type == CUDA_R_32F ? "f32" : "other";
}

std::string describe(const GemmProblem& p) {
  return "column-major m " + std::to_string(p.m) + ", n " + std::to_string(p.n) + ", k " +
         std::to_string(p.k) + ", transposes " + std::to_string(p.transpose_a) +
         std::to_string(p.transpose_b) + ", " + type_name(p.ab_type) + " inputs, " +
         type_name(p.c_type) + " output, leading dimensions " + std::to_string(p.lda) + "/" +
         std::to_string(p.ldb) + "/" + std::to_string(p.ldc) + ", batch " +
         std::to_string(p.batch) + ", alignments " + std::to_string(p.align_a) + "/" +
         std::to_string(p.align_b) + "/" + std::to_string(p.align_c);
}

cublasLtMatrixLayout_t layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                              int32_t batch, int64_t stride, const char* op) {
  cublasLtMatrixLayout_t l = nullptr;
  check(cublasLtMatrixLayoutCreate(&l, type, static_cast<uint64_t>(rows),
                                   static_cast<uint64_t>(cols), ld),
        op);
  if (batch > 1) {
    check(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch,
                                           sizeof(batch)),
          op);
    check(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                           sizeof(stride)),
          op);
  }
  return l;
}

GemmPlan make_plan(const GemmProblem& p, const char* op) {
  GemmPlan plan;
  check(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), op);
  const cublasOperation_t op_a = p.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = p.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)),
        op);
  check(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)),
        op);
  // Layouts describe the stored matrices, before the transposes.
  plan.a = p.transpose_a ? layout(p.ab_type, p.k, p.m, p.lda, p.batch, p.stride_a, op)
                         : layout(p.ab_type, p.m, p.k, p.lda, p.batch, p.stride_a, op);
  plan.b = p.transpose_b ? layout(p.ab_type, p.n, p.k, p.ldb, p.batch, p.stride_b, op)
                         : layout(p.ab_type, p.k, p.n, p.ldb, p.batch, p.stride_b, op);
  plan.c = layout(p.c_type, p.m, p.n, p.ldc, p.batch, p.stride_c, op);

  cublasLtMatmulPreference_t preference = nullptr;
  check(cublasLtMatmulPreferenceCreate(&preference), op);
  const uint64_t workspace = cublaslt_workspace_bytes();
  auto prefer = [&](cublasLtMatmulPreferenceAttributes_t attribute, const void* value,
                    size_t size) {
    check(cublasLtMatmulPreferenceSetAttribute(preference, attribute, value, size), op);
  };
  prefer(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &p.align_a, sizeof(p.align_a));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &p.align_b, sizeof(p.align_b));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &p.align_c, sizeof(p.align_c));
  prefer(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &p.align_c, sizeof(p.align_c));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      cublaslt(), plan.desc, plan.a, plan.b, plan.c, plan.c, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && found == 0))
    throw std::runtime_error(std::string(op) + ": cuBLASLt has no algorithm for " + describe(p));
  check(status, op);
  plan.algo = result.algo;
  return plan;
}

struct PlanCache {
  std::mutex mutex;
  std::map<GemmProblem, GemmPlan> plans;
};

PlanCache& plan_cache() {
  static PlanCache cache;
  return cache;
}

}  // namespace

const GemmPlan& gemm_plan(const GemmProblem& problem, const char* op) {
  PlanCache& cache = plan_cache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto it = cache.plans.find(problem);
  if (it == cache.plans.end()) it = cache.plans.emplace(problem, make_plan(problem, op)).first;
  return it->second;
}

size_t plans_made() {
  PlanCache& cache = plan_cache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.plans.size();
}

void run_gemm(const GemmPlan& plan, float alpha, const void* a, const void* b, float beta, void* c,
              const char* op) {
  check(cublasLtMatmul(cublaslt(), plan.desc, &alpha, a, plan.a, b, plan.b, &beta, c, plan.c, c,
                       plan.c, &plan.algo, cublaslt_workspace(), cublaslt_workspace_bytes(),
                       compute_stream()),
        op);
}

uint32_t alignment_of_address(const void* address) {
  const auto bits = reinterpret_cast<uintptr_t>(address);
  return static_cast<uint32_t>(std::min<uintptr_t>(256, bits & (~bits + 1)));
}

}  // namespace stilts::cuda
