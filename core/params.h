// The parameter registry: every mT5 weight under its Hugging Face name, with its shape, the
// axis tensor parallelism splits it along, and its initializer. Values and gradients live in
// two flat buffers (one allocation each) with one view per parameter, so zeroing gradients,
// the global norm and data-parallel bucketing work on contiguous memory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "kernels/tensor.h"

namespace stilts {

// Megatron layout: q, k, v, wi_0, wi_1, the embedding, lm_head split by output rows; o and
// wo by input columns; the [buckets, heads] bias table by heads (its columns); norms
// replicated.
enum class SplitAxis { none, rows, cols };
const char* split_axis_name(SplitAxis axis);

struct ParamSpec {
  std::string name;  // HF name, e.g. "encoder.block.3.layer.1.DenseReluDense.wi_0.weight"
  Shape shape;       // HF [out, in]
  SplitAxis split = SplitAxis::none;
  float init_std = 1.0f;  // Hugging Face _init_weights (factor 1); norms are constant 1
  bool is_norm = false;
};

// The ordered list of parameters of a config (encoder, decoder, head; HF order).
std::vector<ParamSpec> param_specs(const ModelConfig& config);
int64_t param_count(const ModelConfig& config);

class Parameters {
 public:
  Parameters(const ModelConfig& config, Device device);

  const ModelConfig& config() const { return config_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  size_t size() const { return specs_.size(); }
  int64_t numel() const { return flat_values_.numel(); }

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

  // Hugging Face's initialization scheme, deterministic from the seed: parameter i draws
  // from its own Philox stream, so adding parameters never shifts the others.
  void initialize(uint64_t seed);

 private:
  ModelConfig config_;
  std::vector<ParamSpec> specs_;
  std::map<std::string, size_t> index_;
  Tensor flat_values_, flat_grads_;
  std::vector<Tensor> values_, grads_;
};

}  // namespace stilts
