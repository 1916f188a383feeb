// stilts import-hf: a Hugging Face model directory becomes a stilts checkpoint at step 0.
#include <cstdio>

#include "core/checkpoint/checkpoint.h"
#include "core/checkpoint/hf_format.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {

int run_import_hf(int argc, char** argv) {
  std::string hf_dir, out;
  po::options_description o("stilts import-hf");
  o.add_options()("hf-dir", po::value(&hf_dir)->required(),
                  "Hugging Face model directory (config.json, model.safetensors or its index)")(
      "out", po::value(&out)->required(), "checkpoint run directory to create");
  CommandSyntax syntax{"stilts import-hf HF_DIR --out CKPT_DIR"};
  syntax.positional.add("hf-dir", 1);
  ParsedCommand cmd = parse_command(syntax, o, argc, argv);
  if (cmd.help) return 0;

  Parameters params(read_hf_config(hf_dir), Device::cpu);
  load_hf_weights(hf_dir, params);
  const nlohmann::json run_config = {{"model", model_config_to_json(params.config())},
                                     {"imported_from", hf_dir}};
  const std::string step_dir =
      save_checkpoint(out, 0, params, {}, {{"step", 0}, {"optimizer_steps", 0}}, run_config);
  std::printf("imported %s (%s, %lld parameters) into %s\n", hf_dir.c_str(),
              params.config().shape_summary().c_str(), static_cast<long long>(params.numel()),
              step_dir.c_str());
  return 0;
}

}  // namespace stilts::launch
