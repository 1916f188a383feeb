// The orders of summation that the two backends share, so that a sum made on either device has
// the same bits. Both kernels/cpu/ and kernels/cuda/ include this header and use these
// constants; change one and both backends follow.
//
// Only the rules stated here are shared. The other reductions have an order of their own on
// each backend, fixed for any thread count (the CPU's blocks of kernels/cpu/common.h) or any
// run (the GPU's fixed grids, kernels/cuda/reduce.cuh), and the backends agree to rounding
// there, not bit for bit (tests/cuda states the tolerances).
#pragma once

#include <cstdint>

namespace stilts::reduction_order {

// A sum over the rows of a [rows, cols] matrix, per column (RMSNorm's weight gradient): the
// rows are cut into blocks of kRowBlock; each block's sum is a double accumulated over its
// rows in increasing order, starting from 0.0; the column's sum is then the block sums added in
// block order, starting from 0.0, and is rounded to f32 once. The CPU runs the blocks on its
// threads (cpu::rows_and_column_sums, which Adafactor's column sums use too), the GPU on its
// blocks (kernels/cuda/rmsnorm.cu).
inline constexpr int64_t kRowBlock = 64;

}  // namespace stilts::reduction_order
