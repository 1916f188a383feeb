// The Hugging Face config.json of a model configuration, both ways.
#include "core/config_json.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace stilts {

nlohmann::json to_hf_config(const ModelConfig& c) {
  return {
      {"architectures", {"MT5ForConditionalGeneration"}},
      {"model_type", "mt5"},
      {"vocab_size", c.vocab_size},
      {"d_model", c.d_model},
      {"d_kv", c.d_kv},
      {"d_ff", c.d_ff},
      {"num_heads", c.num_heads},
      {"num_layers", c.num_layers},
      {"num_decoder_layers", c.num_decoder_layers},
      {"relative_attention_num_buckets", c.relative_attention_num_buckets},
      {"relative_attention_max_distance", c.relative_attention_max_distance},
      {"layer_norm_epsilon", c.layer_norm_epsilon},
      {"dropout_rate", c.dropout_rate},
      {"feed_forward_proj", "gated-gelu"},
      {"initializer_factor", 1.0},
      {"is_encoder_decoder", true},
      {"tie_word_embeddings", false},
      {"use_cache", true},
      {"pad_token_id", c.pad_token_id},
      {"eos_token_id", c.eos_token_id},
      {"decoder_start_token_id", c.decoder_start_token_id},
      {"torch_dtype", "float32"},
      {"tokenizer_class", "T5Tokenizer"},
  };
}

ModelConfig from_hf_config(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw std::invalid_argument(source + ": expected a JSON object");
  auto need = [&](const char* key) -> const nlohmann::json& {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
      throw std::invalid_argument(source + ": expected integer field '" + key + "'");
    return *it;
  };
  ModelConfig c;
  c.name = "custom";
  c.vocab_size = need("vocab_size").get<int64_t>();
  c.d_model = need("d_model").get<int64_t>();
  c.d_kv = need("d_kv").get<int64_t>();
  c.d_ff = need("d_ff").get<int64_t>();
  c.num_heads = need("num_heads").get<int64_t>();
  c.num_layers = need("num_layers").get<int64_t>();
  c.num_decoder_layers = j.value("num_decoder_layers", c.num_layers);
  c.relative_attention_num_buckets = j.value("relative_attention_num_buckets", 32);
  c.relative_attention_max_distance = j.value("relative_attention_max_distance", 128);
  c.layer_norm_epsilon = j.value("layer_norm_epsilon", 1e-6);
  c.dropout_rate = j.value("dropout_rate", 0.1);
  c.pad_token_id = j.value("pad_token_id", 0);
  c.eos_token_id = j.value("eos_token_id", 1);
  c.decoder_start_token_id = j.value("decoder_start_token_id", 0);
  std::string ff = j.value("feed_forward_proj", std::string("gated-gelu"));
  if (ff != "gated-gelu")
    throw std::invalid_argument(source + ": feed_forward_proj '" + ff +
                                "' is not supported (mT5 uses gated-gelu)");
  // mT5 checkpoints serialize tie_word_embeddings=false; a missing key means the T5 default
  // (true), which is a different model.
  if (j.value("tie_word_embeddings", true))
    throw std::invalid_argument(source +
                                ": tie_word_embeddings is true or missing; stilts implements "
                                "mT5 / T5 v1.1 with an untied lm_head");
  c.validate();
  for (const std::string& name : model_preset_names())
    if (model_preset(name).same_shape(c)) c.name = name;
  return c;
}

}  // namespace stilts
