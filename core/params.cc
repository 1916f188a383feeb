#include "core/params.h"

#include "kernels/ops.h"

#include <cmath>
#include <stdexcept>

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

namespace {

// Initialization streams live above every dropout stream (dropout_stream uses 32 bits of step).
constexpr uint64_t kInitStream = 1ull << 63;

void add_attention(std::vector<ParamSpec>& out, const std::string& prefix, const ModelConfig& c,
                   bool with_bias_table) {
  const int64_t d = c.d_model, inner = c.inner_dim();
  const float fd = static_cast<float>(d);
  out.push_back({prefix + ".q.weight",
                 {inner, d},
                 SplitAxis::rows,
                 1.0f / std::sqrt(fd * static_cast<float>(c.d_kv))});
  out.push_back({prefix + ".k.weight", {inner, d}, SplitAxis::rows, 1.0f / std::sqrt(fd)});
  out.push_back({prefix + ".v.weight", {inner, d}, SplitAxis::rows, 1.0f / std::sqrt(fd)});
  out.push_back({prefix + ".o.weight",
                 {d, inner},
                 SplitAxis::cols,
                 1.0f / std::sqrt(static_cast<float>(inner))});
  if (with_bias_table)
    out.push_back({prefix + ".relative_attention_bias.weight",
                   {c.relative_attention_num_buckets, c.num_heads},
                   SplitAxis::cols,
                   1.0f / std::sqrt(fd)});
}

void add_norm(std::vector<ParamSpec>& out, const std::string& name, const ModelConfig& c) {
  out.push_back({name, {c.d_model}, SplitAxis::none, 1.0f, true});
}

void add_feed_forward(std::vector<ParamSpec>& out, const std::string& prefix,
                      const ModelConfig& c) {
  const float fd = static_cast<float>(c.d_model);
  out.push_back(
      {prefix + ".wi_0.weight", {c.d_ff, c.d_model}, SplitAxis::rows, 1.0f / std::sqrt(fd)});
  out.push_back(
      {prefix + ".wi_1.weight", {c.d_ff, c.d_model}, SplitAxis::rows, 1.0f / std::sqrt(fd)});
  out.push_back({prefix + ".wo.weight",
                 {c.d_model, c.d_ff},
                 SplitAxis::cols,
                 1.0f / std::sqrt(static_cast<float>(c.d_ff))});
}

}  // namespace

std::vector<ParamSpec> param_specs(const ModelConfig& c) {
  c.validate();
  std::vector<ParamSpec> s;
  s.push_back({"shared.weight", {c.vocab_size, c.d_model}, SplitAxis::rows, 1.0f});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string b = "encoder.block." + std::to_string(i);
    add_attention(s, b + ".layer.0.SelfAttention", c, i == 0);
    add_norm(s, b + ".layer.0.layer_norm.weight", c);
    add_feed_forward(s, b + ".layer.1.DenseReluDense", c);
    add_norm(s, b + ".layer.1.layer_norm.weight", c);
  }
  add_norm(s, "encoder.final_layer_norm.weight", c);
  for (int64_t i = 0; i < c.num_decoder_layers; ++i) {
    const std::string b = "decoder.block." + std::to_string(i);
    add_attention(s, b + ".layer.0.SelfAttention", c, i == 0);
    add_norm(s, b + ".layer.0.layer_norm.weight", c);
    add_attention(s, b + ".layer.1.EncDecAttention", c, false);
    add_norm(s, b + ".layer.1.layer_norm.weight", c);
    add_feed_forward(s, b + ".layer.2.DenseReluDense", c);
    add_norm(s, b + ".layer.2.layer_norm.weight", c);
  }
  add_norm(s, "decoder.final_layer_norm.weight", c);
  s.push_back({"lm_head.weight", {c.vocab_size, c.d_model}, SplitAxis::rows, 1.0f});
  return s;
}

int64_t param_count(const ModelConfig& config) {
  int64_t n = 0;
  for (const ParamSpec& p : param_specs(config)) n += shape_numel(p.shape);
  return n;
}

Parameters::Parameters(const ModelConfig& config, Device device)
    : config_(config), specs_(param_specs(config)) {
  int64_t total = 0;
  for (size_t i = 0; i < specs_.size(); ++i) {
    index_[specs_[i].name] = i;
    total += shape_numel(specs_[i].shape);
  }
  flat_values_ = Tensor({total}, DType::f32, device);
  flat_grads_ = Tensor({total}, DType::f32, device);
  int64_t offset = 0;
  for (const ParamSpec& p : specs_) {
    values_.push_back(flat_values_.slice(offset, p.shape));
    grads_.push_back(flat_grads_.slice(offset, p.shape));
    offset += shape_numel(p.shape);
  }
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

void Parameters::initialize(uint64_t seed) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].is_norm)
      ops::fill(values_[i], 1.0f);
    else
      ops::fill_normal(values_[i], 0.0f, specs_[i].init_std, RngKey{seed, kInitStream | i});
  }
}

}  // namespace stilts
