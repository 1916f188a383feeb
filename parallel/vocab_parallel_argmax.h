// The argmax over a vocabulary split across the tensor-parallel group (greedy decoding and
// teacher-forced accuracy) without gathering the logits: two all-reduces of N floats.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"
#include "parallel/communicator.h"

namespace stilts {

// logits [N, V/tp] (f32, or bf16 on the GPU) hold columns [vocab_start, vocab_start + V/tp) of the
// full logits; WRITES out i32 [N], the index over the full vocabulary of each row's maximum (the
// smallest such index on ties, as ops::argmax_rows), on logits' device. Collective over tp.
void vocab_parallel_argmax(Communicator& tp, const Tensor& logits, int64_t vocab_start,
                           Tensor& out);

}  // namespace stilts
