// A model named on the command line: a Hugging Face model directory (config.json and
// safetensors) or a stilts checkpoint (a run directory with `latest`, or a step directory).
#pragma once

#include <memory>
#include <string>

#include "core/params.h"

namespace stilts::launch {

bool is_hf_model_dir(const std::string& path);
ModelConfig read_model_config(const std::string& path);
// Allocates parameters of the source's config on the CPU and loads them.
std::unique_ptr<Parameters> load_model(const std::string& path);
// Loads weights into existing parameters (whose shape must match), on either device.
void load_weights(const std::string& path, Parameters& params);

}  // namespace stilts::launch
