// Megatron's tensor-parallel mappings (tensor_parallel/mappings.py) on the tensors of one TP
// group: the two points where a Megatron layer crosses between replicated and partial values.
// The pair of a mapping are conjugate: an all-reduce in one direction is an identity in the
// other, because the sum of the ranks' partial results is linear in each of them.
//
// - copy_to: applied by ColumnParallelLinear to its replicated input (q/k/v, wi_0/wi_1 and the
//   LM head). Each rank's weight slice sees only part of the input's uses, so the input
//   gradient is a partial sum that the backward all-reduces.
// - reduce_from: applied by RowParallelLinear to its output (attention o, wo) and by the
//   vocab-parallel embedding. Each rank computed a partial sum over its slice of the input,
//   so the forward all-reduces and the gradient, already replicated, passes through.
//
// Every function works in place and is collective over `tp` when it all-reduces; a rank that
// calls one must have every rank of the group call it in the same order.
#pragma once

#include "kernels/tensor.h"
#include "parallel/communicator.h"

namespace stilts {

void copy_to_tp_forward(Communicator& tp, Tensor& input);       // identity
void copy_to_tp_backward(Communicator& tp, Tensor& grad);       // all-reduce sum
void reduce_from_tp_forward(Communicator& tp, Tensor& output);  // all-reduce sum
void reduce_from_tp_backward(Communicator& tp, Tensor& grad);   // identity

}  // namespace stilts
