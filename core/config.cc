#include "core/config.h"

#include <map>
#include <stdexcept>

namespace stilts {
namespace {

ModelConfig make(std::string name, int64_t vocab, int64_t d_model, int64_t d_kv, int64_t d_ff,
                 int64_t heads, int64_t layers) {
  ModelConfig c;
  c.name = std::move(name);
  c.vocab_size = vocab;
  c.d_model = d_model;
  c.d_kv = d_kv;
  c.d_ff = d_ff;
  c.num_heads = heads;
  c.num_layers = layers;
  c.num_decoder_layers = layers;
  return c;
}

const std::map<std::string, ModelConfig>& presets() {
  static const std::map<std::string, ModelConfig> table = [] {
    std::map<std::string, ModelConfig> m;
    for (const ModelConfig& c : {
             make("mt5-small", 250112, 512, 64, 1024, 6, 8),
             make("mt5-base", 250112, 768, 64, 2048, 12, 12),
             make("mt5-large", 250112, 1024, 64, 2816, 16, 24),
             make("mt5-xl", 250112, 2048, 64, 5120, 32, 24),
             make("mt5-xxl", 250112, 4096, 64, 10240, 64, 24),
             // inner = 3*64 = 192 != d_model = 64, like mt5-small's 384 != 512.
             make("test-tiny", 320, 64, 64, 96, 3, 2),
             // For learning tests: still inner (4*32) != d_model (96), vocabulary of 256.
             make("test-small", 256, 96, 32, 192, 4, 2),
             // The embedded demos' sizes (experiments/demo): mT5's shape scaled down so that
             // pretraining, intermediate and target training fit minutes on two CPU cores; the
             // vocabulary is the demo tokenizer's (train --vocab-size). `make demo` trains
             // demo-tiny and demo-small, `make demo-full` the three larger ones.
             make("demo-tiny", 2048, 32, 8, 64, 4, 2),
             make("demo-small", 2048, 64, 16, 128, 4, 2),
             make("demo-base", 2048, 96, 24, 192, 4, 3),
             make("demo-large", 2048, 128, 32, 256, 4, 4),
         })
      m.emplace(c.name, c);
    return m;
  }();
  return table;
}

}  // namespace

void ModelConfig::validate() const {
  auto positive = [&](int64_t v, const char* field) {
    if (v <= 0)
      throw std::invalid_argument(std::string("model config: ") + field +
                                  " must be positive, got " + std::to_string(v));
  };
  positive(vocab_size, "vocab_size");
  positive(d_model, "d_model");
  positive(d_kv, "d_kv");
  positive(d_ff, "d_ff");
  positive(num_heads, "num_heads");
  positive(num_layers, "num_layers");
  positive(num_decoder_layers, "num_decoder_layers");
  positive(relative_attention_num_buckets, "relative_attention_num_buckets");
  positive(relative_attention_max_distance, "relative_attention_max_distance");
  if (relative_attention_num_buckets % 2 != 0)
    throw std::invalid_argument("model config: relative_attention_num_buckets must be even");
  if (!(layer_norm_epsilon > 0))
    throw std::invalid_argument("model config: layer_norm_epsilon must be positive");
  if (!(dropout_rate >= 0 && dropout_rate < 1))
    throw std::invalid_argument("model config: dropout_rate must be in [0, 1)");
  if (tie_word_embeddings)
    throw std::invalid_argument(
        "model config: tie_word_embeddings=true is not mT5 (mT5 has an untied lm_head)");
  for (int id : {pad_token_id, eos_token_id, decoder_start_token_id})
    if (id < 0 || id >= vocab_size)
      throw std::invalid_argument("model config: special token id " + std::to_string(id) +
                                  " outside the vocabulary");
}

bool ModelConfig::same_shape(const ModelConfig& o) const {
  return vocab_size == o.vocab_size && d_model == o.d_model && d_kv == o.d_kv && d_ff == o.d_ff &&
         num_heads == o.num_heads && num_layers == o.num_layers &&
         num_decoder_layers == o.num_decoder_layers &&
         relative_attention_num_buckets == o.relative_attention_num_buckets &&
         relative_attention_max_distance == o.relative_attention_max_distance;
}

std::string ModelConfig::shape_summary() const {
  return "vocab " + std::to_string(vocab_size) + ", d_model " + std::to_string(d_model) +
         ", d_kv " + std::to_string(d_kv) + ", d_ff " + std::to_string(d_ff) + ", heads " +
         std::to_string(num_heads) + ", layers " + std::to_string(num_layers) + "/" +
         std::to_string(num_decoder_layers);
}

ModelConfig model_preset(const std::string& name) {
  auto it = presets().find(name);
  if (it == presets().end()) {
    std::string known;
    for (const auto& n : model_preset_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown model preset '" + name + "' (known: " + known + ")");
  }
  return it->second;
}

std::vector<std::string> model_preset_names() {
  std::vector<std::string> names;
  for (const auto& [name, config] : presets()) names.push_back(name);
  return names;
}

}  // namespace stilts
