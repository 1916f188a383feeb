#include "parallel/tensor_parallel.h"

namespace stilts {

void copy_to_tp_backward(Communicator& tp, Tensor& grad) {
  tp.all_reduce(grad, ReduceOp::sum);
}

void reduce_from_tp_forward(Communicator& tp, Tensor& output) {
  tp.all_reduce(output, ReduceOp::sum);
}

}  // namespace stilts
