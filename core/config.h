// Model configuration: the mT5 presets and their validation (config.json: core/config_json.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stilts {

struct ModelConfig {
  std::string name;  // preset name, or "custom" for an imported config
  int64_t vocab_size = 0;
  int64_t d_model = 0;
  int64_t d_kv = 64;
  int64_t d_ff = 0;
  int64_t num_heads = 0;
  int64_t num_layers = 0;          // encoder blocks
  int64_t num_decoder_layers = 0;  // decoder blocks
  int relative_attention_num_buckets = 32;
  int relative_attention_max_distance = 128;
  // Doubles so config.json round-trips the decimal values exactly; kernels take floats.
  double layer_norm_epsilon = 1e-6;
  double dropout_rate = 0.1;
  bool tie_word_embeddings = false;  // mT5 never ties; kept so a tied config is refused loudly
  int pad_token_id = 0;
  int eos_token_id = 1;
  int decoder_start_token_id = 0;

  // Attention inner width h * d_kv; for mt5-small 384, not d_model (512).
  int64_t inner_dim() const { return num_heads * d_kv; }
  bool operator==(const ModelConfig&) const = default;

  // Throws std::invalid_argument naming the first inconsistent field.
  void validate() const;
  // Same architecture (every size field equal); names and dropout may differ.
  bool same_shape(const ModelConfig& other) const;
  std::string shape_summary() const;
};

// "mt5-small" ... "mt5-xxl" with the T5X sizes, plus "test-tiny" and "test-small": small
// presets that keep every structural feature (inner width != d_model, 2+ layers per stack,
// 3+ heads, a vocabulary of a few hundred), and "demo-tiny", "demo-small", "demo-base",
// "demo-large": the embedded demos' sizes (experiments/demo).
ModelConfig model_preset(const std::string& name);
std::vector<std::string> model_preset_names();

}  // namespace stilts
