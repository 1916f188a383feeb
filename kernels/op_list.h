// The ops of kernels/ops.h that have a kernel on each backend, one entry per op. The kernels of
// op are cpu::op (kernels/cpu/) and cuda::op (kernels/cuda/), and they take exactly the
// arguments of ops::op: its signature is written once, in kernels/ops.h with the documentation.
// Everything else follows from this list:
//   kernels/cpu/cpu_ops.h, kernels/cuda/cuda_ops.h   declare cpu::op and cuda::op
//   kernels/ops.cc                                   runs the kernel of the tensors' device
//   tests/cuda/test_ops_cuda.cc                      fails for an op without a device test
// so a new op is an entry here, in the section of the kernel files it joins (each section names
// its pair, built by `stilts_op(<file>)` in kernels/CMakeLists.txt; a new pair adds one line
// there), its declaration and validation in kernels/ops.h and ops.cc, its two kernels, its test
// against the definition in tests/unit/kernels/ (the file of its pair), and its OP_TEST in
// tests/cuda/test_ops_cuda.cc.
//
// No include guard: each includer defines STILTS_KERNEL(op) to what it makes of an entry,
// includes this file, and undefines it.
//
// Not listed, because they have no CUDA twin: ops::copy (cpu::copy between host tensors; any
// other pair of devices goes through device::copy_bytes), the bucket table of the relative
// position bias (built on the host and copied up), and the CPU thread count.

// ---- dense algebra: stilts_op(matmul)
STILTS_KERNEL(matmul)

// ---- elementwise and reductions: stilts_op(elementwise)
STILTS_KERNEL(fill)
// cpu::cast takes bf16 (host data can be prepared in bf16), so on the CPU ops::cast calls it
// around the dispatch, whose check refuses bf16 on the CPU.
STILTS_KERNEL(cast)
// The debug checks call ops::all_finite after every op, so it runs its kernel without them
// (the dispatch's checks would call it again).
STILTS_KERNEL(all_finite)
STILTS_KERNEL(add_inplace)
STILTS_KERNEL(scale_inplace)
STILTS_KERNEL(fill_normal)
STILTS_KERNEL(sum)
STILTS_KERNEL(sum_squares)
STILTS_KERNEL(argmax_rows)
STILTS_KERNEL(gather_rows)

// ---- embedding: stilts_op(embedding)
STILTS_KERNEL(embedding_forward)
STILTS_KERNEL(embedding_backward)

// ---- RMSNorm: stilts_op(rmsnorm)
STILTS_KERNEL(rmsnorm_forward)
STILTS_KERNEL(rmsnorm_backward)

// ---- relative position bias: stilts_op(position_bias)
STILTS_KERNEL(position_bias_forward)
STILTS_KERNEL(position_bias_backward)

// ---- attention: stilts_op(attention)
STILTS_KERNEL(attention_forward)
STILTS_KERNEL(attention_backward)

// ---- gated-GELU feed-forward activation: stilts_op(gated_gelu)
STILTS_KERNEL(gated_gelu_forward)
STILTS_KERNEL(gated_gelu_backward)

// ---- dropout: stilts_op(dropout)
STILTS_KERNEL(dropout_forward)
STILTS_KERNEL(dropout_backward)

// ---- cross-entropy: stilts_op(cross_entropy)
STILTS_KERNEL(cross_entropy_forward)
STILTS_KERNEL(cross_entropy_backward)

// ---- vocab-parallel cross-entropy pieces: stilts_op(vocab_parallel_cross_entropy)
STILTS_KERNEL(cross_entropy_partial_forward)
STILTS_KERNEL(cross_entropy_sum_exp)
STILTS_KERNEL(cross_entropy_combine_losses)
STILTS_KERNEL(cross_entropy_partial_backward)

// ---- optimizers: stilts_op(adafactor)
STILTS_KERNEL(adafactor_sums)
STILTS_KERNEL(adafactor_average)
STILTS_KERNEL(adafactor_average_squares)
STILTS_KERNEL(adafactor_update_sum_squares)
STILTS_KERNEL(adafactor_apply)
// stilts_op(adamw)
STILTS_KERNEL(adamw_update)
