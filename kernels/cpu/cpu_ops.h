// The CPU backend of kernels/ops.h: fp32, OpenMP and OpenBLAS. kernels/ops.cc validates every
// argument before calling these, so they assume well-formed shapes, dtypes and devices; checks
// that need the data (ids and targets in range) live here.
#pragma once

#include "kernels/ops.h"

namespace stilts::cpu {

using ops::AdafactorStep;
using ops::AdafactorTotals;
using ops::AdamWStep;
using ops::AttentionShape;

// cpu::op for every op of kernels/op_list.h, with the signature of ops::op.
#define STILTS_KERNEL(op) decltype(ops::op) op;
#include "kernels/op_list.h"
#undef STILTS_KERNEL

// The functions of kernels/ops.h without a CUDA twin, under their names and signatures.
// copy: between two host tensors (ops::copy moves data between devices itself).
decltype(ops::copy) copy;
decltype(ops::relative_position_bucket) relative_position_bucket;
decltype(ops::relative_position_buckets) relative_position_buckets;
decltype(ops::set_cpu_threads) set_cpu_threads;
decltype(ops::cpu_threads) cpu_threads;

}  // namespace stilts::cpu
