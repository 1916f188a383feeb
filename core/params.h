// The parameter registry: every mT5 weight under its Hugging Face name, with its shape, the
// axis tensor parallelism splits it along, and its initializer, as the layer that uses it
// declares them (core/layers/). A process holds its tensor shard of each parameter. Values and
// gradients live in two flat buffers (one allocation each) with one view per parameter, so zeroing
// gradients, the global norm and data-parallel bucketing work on contiguous memory.
//
// On the GPU the flat values are the f32 master weights and the layers compute with a bf16
// copy of them (compute_value), which refresh_compute_copy() recasts after anything writes the
// values. On the CPU the compute copy is the f32 values themselves: no extra memory, nothing to
// refresh.
//
// For ZeRO-1 the parameters are cut, in registry order, into `partitions` contiguous runs of
// about equal size, and each run is padded to the largest, so partition p of a flat buffer is
// exactly elements [p * partition_size, (p + 1) * partition_size): the layout a
// reduce-scatter and an all-gather of equal blocks need.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/tensor_shard.h"
#include "kernels/tensor.h"

namespace stilts {

struct ParamSpec {
  std::string name;  // HF name, e.g. "encoder.block.3.layer.1.DenseReluDense.wi_0.weight"
  Shape shape;       // HF [out, in], unsharded
  SplitAxis split = SplitAxis::none;
  float init_std = 1.0f;  // Hugging Face _init_weights (factor 1); norms are constant 1
  bool is_norm = false;
};

// The ordered list of parameters of a config (encoder, decoder, head; HF order): the model's
// layers' declarations, collected in core/model.cc.
std::vector<ParamSpec> param_specs(const ModelConfig& config);
int64_t param_count(const ModelConfig& config);
// The elements of a shard's flat buffers (Parameters::numel) without allocating them.
int64_t flat_numel(const ModelConfig& config, TensorShard shard, int partitions = 1);

class Parameters {
 public:
  // Throws std::invalid_argument when a split dimension does not divide by shard.size.
  Parameters(const ModelConfig& config, Device device, TensorShard shard = {}, int partitions = 1);

  const ModelConfig& config() const { return config_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  size_t size() const { return specs_.size(); }
  TensorShard shard() const { return shard_; }
  // Elements of the flat buffers, padding between ZeRO partitions included.
  int64_t numel() const { return flat_values_.numel(); }
  int partitions() const { return partitions_; }
  int partition_of(size_t index) const { return partition_of_[index]; }
  // Where parameter `index` starts in the flat buffers; flat_offset(size()) is their end.
  int64_t flat_offset(size_t index) const { return flat_offsets_.at(index); }

  // Throws std::out_of_range naming the missing parameter.
  Tensor& value(const std::string& name);
  Tensor& grad(const std::string& name);
  Tensor& value(size_t index) { return values_[index]; }
  Tensor& grad(size_t index) { return grads_[index]; }
  const Tensor& value(size_t index) const { return values_[index]; }
  const Tensor& grad(size_t index) const { return grads_[index]; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  size_t index_of(const std::string& name) const;

  Tensor& flat_values() { return flat_values_; }
  Tensor& flat_grads() { return flat_grads_; }

  Device device() const { return flat_values_.device(); }
  // The dtype of the compute copy and of every activation: bf16 on the GPU, f32 on the CPU.
  DType activation_dtype() const { return flat_compute_values_.dtype(); }
  Tensor& compute_value(const std::string& name) { return compute_values_[index_of(name)]; }
  Tensor& compute_value(size_t index) { return compute_values_[index]; }
  Tensor& flat_compute_values() { return flat_compute_values_; }
  // Recasts the flat values into the compute copy. Whoever writes values calls it before the
  // next forward: initialize() and the optimizers' step do; so must a loader.
  void refresh_compute_copy();

  // Hugging Face's initialization scheme, deterministic from the seed: parameter i draws
  // from its own Philox stream, so adding parameters never shifts the others, and element
  // (r, c) of the full matrix is the same draw at every tensor-parallel size.
  void initialize(uint64_t seed);

 private:
  ModelConfig config_;
  TensorShard shard_;
  int partitions_;
  int64_t partition_size_ = 0;
  std::vector<int> partition_of_;
  std::vector<int64_t> flat_offsets_;
  std::vector<ParamSpec> specs_;
  std::map<std::string, size_t> index_;
  Tensor flat_values_, flat_grads_, flat_compute_values_;
  std::vector<Tensor> values_, grads_, compute_values_;
};

}  // namespace stilts
