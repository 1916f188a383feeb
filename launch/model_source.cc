#include "launch/model_source.h"

#include <filesystem>

#include "core/checkpoint/checkpoint.h"
#include "core/checkpoint/hf_format.h"
#include "core/trainer.h"

namespace stilts::launch {

namespace fs = std::filesystem;

bool is_hf_model_dir(const std::string& path) {
  return fs::is_regular_file(fs::path(path) / "config.json") &&
         (fs::is_regular_file(fs::path(path) / "model.safetensors") ||
          fs::is_regular_file(fs::path(path) / "model.safetensors.index.json"));
}

ModelConfig read_model_config(const std::string& path) {
  if (is_hf_model_dir(path)) return read_hf_config(path);
  const std::string step_dir = resolve_checkpoint(path);
  return model_config_from_json(read_checkpoint_run_config(step_dir).at("model"),
                                step_dir + "/config.json");
}

void load_weights(const std::string& path, Parameters& params) {
  load_through_host(params, [&](Parameters& host) {
    if (is_hf_model_dir(path))
      load_hf_weights(path, host);
    else
      load_checkpoint_params(resolve_checkpoint(path), host);
  });
}

std::unique_ptr<Parameters> load_model(const std::string& path) {
  auto params = std::make_unique<Parameters>(read_model_config(path), Device::cpu);
  load_weights(path, *params);
  return params;
}

}  // namespace stilts::launch
