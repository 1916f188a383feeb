// Megatron's ColumnParallelLinear: y_i = x·W_iᵀ for one or more weights W_i [out, in] (Hugging
// Face's layout, no bias) that read the same replicated input x. Each weight is split by rows
// (output features) over the TP group, so a rank computes its slice of every output from the
// whole input and the forward communicates nothing. Backward, a rank's input gradient is a
// partial sum over its slices: the layer adds its weights' contributions locally and
// all-reduces once (copy-to-TP's backward), as Megatron's fused QKV does, rather than once per
// weight.
#pragma once

#include <string>
#include <vector>

#include "core/layers/param_ref.h"
#include "parallel/communicator.h"

namespace stilts {

class ColumnParallelLinear {
 public:
  // What backward leaves in the input gradient.
  enum class InputGradient {
    summed,  // the sum over the TP group
    // This rank's partial sum, for an input that other column-parallel layers read too: their
    // owner all-reduces once after all of them (the encoder output, which every decoder
    // layer's cross-attention projects).
    partial,
  };

  // Registers weight `name` [out, in], split by rows, initialized from N(0, init_std²).
  static void declare(std::vector<ParamSpec>& specs, const std::string& name, int64_t out,
                      int64_t in, float init_std);

  // names: weights registered by declare(); tp: the group they are split over.
  ColumnParallelLinear(Parameters& params, const std::vector<std::string>& names, Communicator& tp,
                       InputGradient input_gradient = InputGradient::summed);

  // This rank's output features of weight i.
  int64_t out_features(size_t i = 0) const { return weights_[i].value.dim(0); }
  // y = x·W_iᵀ, this rank's slice of output i.
  void forward(const Tensor& x, size_t i, Tensor& y) const;
  // dys[i]: the gradient of output i of the forward of x. Accumulates each weight's gradient
  // and adds the input gradient to dx. With InputGradient::summed, dx must hold nothing but
  // this rank's partial sums before the call (zeros, or other partials of the same input):
  // the all-reduce sums all of it.
  void backward(const Tensor& x, const std::vector<Tensor>& dys, Tensor& dx);

 private:
  Communicator& tp_;
  std::vector<ParamRef> weights_;
  InputGradient input_gradient_;
};

}  // namespace stilts
