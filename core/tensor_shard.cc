#include "core/tensor_shard.h"

#include <stdexcept>
#include <string>

#include "kernels/ops.h"

namespace stilts {

const char* split_axis_name(SplitAxis axis) {
  switch (axis) {
    case SplitAxis::none:
      return "none";
    case SplitAxis::rows:
      return "rows";
    case SplitAxis::cols:
      return "cols";
  }
  return "?";
}

SplitAxis split_axis_from_name(const std::string& name) {
  for (SplitAxis axis : {SplitAxis::none, SplitAxis::rows, SplitAxis::cols})
    if (name == split_axis_name(axis)) return axis;
  throw std::invalid_argument("split axis '" + name + "' is not none, rows or cols");
}

namespace {

int split_dim(const Shape& full, SplitAxis axis) {
  if (axis == SplitAxis::none) return -1;
  if (full.size() == 1 && axis == SplitAxis::rows) return 0;
  if (full.size() != 2)
    throw std::invalid_argument("a " + std::string(split_axis_name(axis)) +
                                "-split tensor must be a matrix (or a vector split by rows), "
                                "got shape " +
                                shape_string(full));
  return axis == SplitAxis::rows ? 0 : 1;
}

// Applies copy_span(full_offset, local_offset, count) to every contiguous run of the slice.
template <class CopySpan>
void for_each_span(const Shape& full, SplitAxis axis, TensorShard shard, CopySpan copy_span) {
  const Shape local = shard_shape(full, axis, shard);
  const int64_t begin = shard_begin(full, axis, shard);
  if (axis == SplitAxis::cols) {
    for (int64_t r = 0; r < full[0]; ++r) copy_span(r * full[1] + begin, r * local[1], local[1]);
    return;
  }
  const int64_t row_size = axis != SplitAxis::rows ? 0 : full.size() == 2 ? full[1] : 1;
  copy_span(begin * row_size, 0, shape_numel(local));
}

void check_pair(const char* what, const Tensor& full, SplitAxis axis, TensorShard shard,
                const Tensor& local) {
  const Shape expected = shard_shape(full.shape(), axis, shard);
  if (local.shape() != expected || local.dtype() != full.dtype())
    throw std::invalid_argument(std::string(what) + ": shard " + std::to_string(shard.rank) + "/" +
                                std::to_string(shard.size) + " of " + full.describe() +
                                " split by " + split_axis_name(axis) + " is " +
                                shape_string(expected) + ", got " + local.describe());
}

}  // namespace

Shape shard_shape(const Shape& full, SplitAxis axis, TensorShard shard) {
  if (shard.size < 1 || shard.rank < 0 || shard.rank >= shard.size)
    throw std::invalid_argument("tensor shard rank " + std::to_string(shard.rank) + " of " +
                                std::to_string(shard.size) + " is not a valid shard");
  const int dim = split_dim(full, axis);
  if (dim < 0) return full;
  if (full[dim] % shard.size != 0)
    throw std::invalid_argument("dimension " + std::to_string(full[dim]) + " of shape " +
                                shape_string(full) + " does not split over " +
                                std::to_string(shard.size) + " tensor-parallel ranks");
  Shape local = full;
  local[dim] /= shard.size;
  return local;
}

int64_t shard_begin(const Shape& full, SplitAxis axis, TensorShard shard) {
  const int dim = split_dim(full, axis);
  return dim < 0 ? 0 : shard.rank * shard_shape(full, axis, shard)[dim];
}

void extract_shard(const Tensor& full, SplitAxis axis, TensorShard shard, Tensor& local) {
  check_pair("extract_shard", full, axis, shard, local);
  for_each_span(full.shape(), axis, shard, [&](int64_t from, int64_t to, int64_t count) {
    Tensor dst = local.slice(to, {count});
    ops::copy(full.slice(from, {count}), dst);
  });
}

}  // namespace stilts
