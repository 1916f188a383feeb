// The Hugging Face MT5Config (config.json) of a model configuration. Apart from core/config.h
// so that the model builds without nlohmann_json (the minimal build, README "GPU").
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/config.h"

namespace stilts {

nlohmann::json to_hf_config(const ModelConfig& config);
// Reads an MT5/T5 v1.1 config.json; `source` names the file in errors. Refuses
// feed_forward_proj other than gated-gelu and tied embeddings.
ModelConfig from_hf_config(const nlohmann::json& j, const std::string& source);

}  // namespace stilts
