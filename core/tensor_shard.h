// Which slice of a tensor-parallel parameter a rank holds. A parameter split along `rows` keeps
// rows [rank * R / size, (rank + 1) * R / size) of its Hugging Face [out, in] shape; one split
// along `cols` keeps that range of columns; `none` is replicated. A vector (an optimizer's
// row statistics) may be split by rows. Checkpoint resharding, the HF
// export's gather and the equivalence tests move between full and local tensors with these.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/tensor.h"

namespace stilts {

// Megatron layout: q, k, v, wi_0, wi_1, the embedding, lm_head split by output rows; o and
// wo by input columns; the [buckets, heads] bias table by heads (its columns); norms
// replicated.
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
// The shard's slice of full = local; the rest of full is left as it is.
void insert_shard(const Tensor& local, SplitAxis axis, TensorShard shard, Tensor& full);

}  // namespace stilts
