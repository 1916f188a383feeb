#include "core/params.h"

#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stilts {

namespace {

// Initialization streams live above every dropout stream (dropout_stream uses 32 bits of step).
constexpr uint64_t kInitStream = 1ull << 63;

}  // namespace

int64_t param_count(const ModelConfig& config) {
  int64_t n = 0;
  for (const ParamSpec& p : param_specs(config)) n += shape_numel(p.shape);
  return n;
}

namespace {

struct FlatLayout {
  std::vector<Shape> local;       // each parameter's shard shape
  std::vector<int> partition_of;  // each parameter's ZeRO partition
  int64_t partition_size = 0;     // elements per partition, padding included
};

FlatLayout flat_layout(const std::vector<ParamSpec>& specs, TensorShard shard, int partitions) {
  if (partitions < 1)
    throw std::invalid_argument("parameter partitions " + std::to_string(partitions) +
                                " must be >= 1");
  FlatLayout layout;
  int64_t total = 0;
  for (const ParamSpec& spec : specs) {
    layout.local.push_back(shard_shape(spec.shape, spec.split, shard));
    total += shape_numel(layout.local.back());
  }
  // Parameter i goes to the partition its first element falls in when the unpadded buffer is
  // cut into equal runs.
  const int64_t target = (total + partitions - 1) / partitions;
  std::vector<int64_t> partition_numel(partitions, 0);
  int64_t unpadded = 0;
  for (const Shape& shape : layout.local) {
    const int p = static_cast<int>(std::min<int64_t>(unpadded / target, partitions - 1));
    layout.partition_of.push_back(p);
    partition_numel[p] += shape_numel(shape);
    unpadded += shape_numel(shape);
  }
  layout.partition_size = *std::max_element(partition_numel.begin(), partition_numel.end());
  return layout;
}

}  // namespace

int64_t flat_numel(const ModelConfig& config, TensorShard shard, int partitions) {
  return flat_layout(param_specs(config), shard, partitions).partition_size * partitions;
}

Parameters::Parameters(const ModelConfig& config, Device device, TensorShard shard, int partitions)
    : config_(config), shard_(shard), partitions_(partitions), specs_(param_specs(config)) {
  FlatLayout layout = flat_layout(specs_, shard, partitions);
  const std::vector<Shape>& local = layout.local;
  partition_of_ = std::move(layout.partition_of);
  partition_size_ = layout.partition_size;
  for (size_t i = 0; i < specs_.size(); ++i) index_[specs_[i].name] = i;
  flat_values_ = Tensor({partition_size_ * partitions}, DType::f32, device);
  flat_grads_ = Tensor({partition_size_ * partitions}, DType::f32, device);
  flat_compute_values_ = device == Device::cpu
                             ? flat_values_
                             : Tensor({partition_size_ * partitions}, DType::bf16, device);
  std::vector<int64_t> next(partitions);
  for (int p = 0; p < partitions; ++p) next[p] = p * partition_size_;
  for (size_t i = 0; i < specs_.size(); ++i) {
    int64_t& offset = next[partition_of_[i]];
    flat_offsets_.push_back(offset);
    values_.push_back(flat_values_.slice(offset, local[i]));
    grads_.push_back(flat_grads_.slice(offset, local[i]));
    compute_values_.push_back(flat_compute_values_.slice(offset, local[i]));
    offset += shape_numel(local[i]);
  }
  flat_offsets_.push_back(flat_values_.numel());
}

size_t Parameters::index_of(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end())
    throw std::out_of_range("no parameter named '" + name + "' in model " + config_.name);
  return it->second;
}

Tensor& Parameters::value(const std::string& name) {
  return values_[index_of(name)];
}
Tensor& Parameters::grad(const std::string& name) {
  return grads_[index_of(name)];
}

void Parameters::refresh_compute_copy() {
  if (flat_compute_values_.raw() != flat_values_.raw())
    ops::cast(flat_values_, flat_compute_values_);
}

void Parameters::initialize(uint64_t seed) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    const ParamSpec& spec = specs_[i];
    Tensor& value = values_[i];
    if (spec.is_norm) {
      ops::fill(value, 1.0f);
      continue;
    }
    const RngKey key{seed, kInitStream | i};
    const int64_t begin = shard_begin(spec.shape, spec.split, shard_);
    // A whole matrix is one run of the draw; a block of columns is one run per row.
    if (spec.split != SplitAxis::cols || value.dim(1) == spec.shape[1]) {
      const int64_t row_size = spec.split == SplitAxis::rows ? spec.shape[1] : 0;
      ops::fill_normal(value, 0.0f, spec.init_std, key, begin * row_size);
      continue;
    }
    const int64_t local_cols = value.dim(1);
    for (int64_t r = 0; r < value.dim(0); ++r) {
      Tensor row = value.slice(r * local_cols, {local_cols});
      ops::fill_normal(row, 0.0f, spec.init_std, key, r * spec.shape[1] + begin);
    }
  }
  refresh_compute_copy();
}

}  // namespace stilts
