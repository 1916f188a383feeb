// The two collectives of Megatron's tensor-parallel mappings (tensor_parallel/mappings.py), where
// a layer crosses between values every rank of the TP group holds whole and partial sums over
// the group. Each mapping's other direction is the identity, because the sum of the ranks'
// partial results is linear in each of them:
//
// - copy-to-TP: a replicated input read by column-parallel weights (core/layers/
//   column_parallel_linear.h). The forward is the identity; each rank's weight slice sees only
//   part of the input's uses, so the input gradient is a partial sum that the backward
//   all-reduces.
// - reduce-from-TP: the output of a row-parallel weight or the vocab-parallel embedding
//   (core/layers/row_parallel_linear.h, embedding.h). Each rank computed a partial sum over its
//   slice, so the forward all-reduces; the gradient, already whole, passes through backward.
//
// Both work in place and are collective over `tp`: every rank of the group calls them in the
// same order.
#pragma once

#include "kernels/tensor.h"
#include "parallel/communicator.h"

namespace stilts {

void copy_to_tp_backward(Communicator& tp, Tensor& grad);       // all-reduce sum
void reduce_from_tp_forward(Communicator& tp, Tensor& output);  // all-reduce sum

}  // namespace stilts
