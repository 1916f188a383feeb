// The CUDA backend of kernels/ops.h: bf16 or f32 storage as ops.h allows ("floating"), f32
// accumulation, GEMMs through cuBLASLt, every kernel on the one compute stream of
// kernels/cuda/context.h. kernels/ops.cc validates every argument before calling these.
#pragma once

#include "kernels/ops.h"

namespace stilts::cuda {

using ops::AdafactorStep;
using ops::AdafactorTotals;
using ops::AdamWStep;
using ops::AttentionShape;

// cuda::op for every op of kernels/op_list.h, with the signature of ops::op.
#define STILTS_KERNEL(op) decltype(ops::op) op;
#include "kernels/op_list.h"
#undef STILTS_KERNEL

}  // namespace stilts::cuda
