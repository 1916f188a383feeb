// Megatron's RowParallelLinear: y = x·Wᵀ for a weight W [out, in] (Hugging Face's layout, no
// bias) split by columns over the TP group, whose input x is split the same way (this rank's
// heads or slice of d_ff: a column-parallel layer's output). Each rank's product is a partial
// sum of y, so the forward all-reduces it (reduce-from-TP); the gradient of y is then whole on
// every rank and the backward communicates nothing.
#pragma once

#include <string>
#include <vector>

#include "core/layers/param_ref.h"
#include "parallel/communicator.h"

namespace stilts {

class RowParallelLinear {
 public:
  // Registers weight `name` [out, in], split by columns, initialized from N(0, init_std²).
  static void declare(std::vector<ParamSpec>& specs, const std::string& name, int64_t out,
                      int64_t in, float init_std);

  // name: a weight registered by declare(); tp: the group it is split over.
  RowParallelLinear(Parameters& params, const std::string& name, Communicator& tp);

  int64_t out_features() const { return weight_.value.dim(0); }
  // y = x·Wᵀ summed over the TP group. Collective.
  void forward(const Tensor& x, Tensor& y);
  // dx += dy·W (this rank's slice of the input gradient), dW += dyᵀ·x.
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx);

 private:
  Communicator& tp_;
  ParamRef weight_;
};

}  // namespace stilts
