// Which slice of a tensor-parallel parameter a rank holds. A parameter split along `rows` keeps
// rows [rank * R / size, (rank + 1) * R / size) of its Hugging Face [out, in] shape; one split
// along `cols` keeps that range of columns; `none` is replicated. A vector (an optimizer's
// row statistics) may be split by rows. The parameter registry sizes and initializes the
// shards with these, and the equivalence tests cut full tensors into them.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/tensor.h"

namespace stilts {

// Each layer declares its parameters' axes (core/layers/, parallel/README.md lists them).
enum class SplitAxis { none, rows, cols };
const char* split_axis_name(SplitAxis axis);
// Throws std::invalid_argument naming the text when it is not a split_axis_name.
SplitAxis split_axis_from_name(const std::string& name);

struct TensorShard {
  int size = 1;  // the tensor-parallel group's size
  int rank = 0;  // this rank's place in it
  bool operator==(const TensorShard&) const = default;
};

// The local shape of a parameter of full shape `full` (throws std::invalid_argument unless
// the split dimension divides by shard.size).
Shape shard_shape(const Shape& full, SplitAxis axis, TensorShard shard);
// The first row (rows) or column (cols) of the local slice; 0 when replicated.
int64_t shard_begin(const Shape& full, SplitAxis axis, TensorShard shard);

// local = the shard's slice of full (full has the HF shape, local the shard shape).
void extract_shard(const Tensor& full, SplitAxis axis, TensorShard shard, Tensor& local);

}  // namespace stilts
