// stilts plan: what a model costs, computed from the registry without allocating it.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "core/params.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {
namespace {

std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

double gib(int64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
}

}  // namespace

int run_plan(int argc, char** argv) {
  std::string preset;
  bool list = false;
  boost::optional<std::string> write_config;
  int tp = 1;
  po::options_description o("stilts plan");
  o.add_options()("model", po::value(&preset)->default_value("mt5-small"), "model preset")(
      "list", po::bool_switch(&list), "list the presets")(
      "write-config", po::value(&write_config),
      "also write the preset as a Hugging Face config.json here")(
      "tp", po::value(&tp)->default_value(1),
      "also show one rank's share at this tensor-parallel size");
  ParsedCommand cmd = parse_command({"stilts plan --model PRESET"}, o, argc, argv);
  if (cmd.help) return 0;
  if (list) {
    for (const std::string& name : model_preset_names()) {
      ModelConfig c = model_preset(name);
      std::printf("%-10s %s, %s parameters\n", name.c_str(), c.shape_summary().c_str(),
                  grouped(param_count(c)).c_str());
    }
    return 0;
  }
  ModelConfig config;
  try {
    config = model_preset(preset);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--model: ") + e.what());
  }
  int64_t embedding = 0, head = 0, encoder = 0, decoder = 0;
  for (const ParamSpec& p : param_specs(config)) {
    const int64_t n = shape_numel(p.shape);
    if (p.name == "shared.weight")
      embedding += n;
    else if (p.name == "lm_head.weight")
      head += n;
    else if (p.name.rfind("encoder.", 0) == 0)
      encoder += n;
    else
      decoder += n;
  }
  const int64_t total = embedding + head + encoder + decoder;
  std::printf("model %s: %s, inner width %lld\n", config.name.c_str(),
              config.shape_summary().c_str(), static_cast<long long>(config.inner_dim()));
  std::printf("parameters: %s\n", grouped(total).c_str());
  std::printf("  shared embedding %s, lm_head %s, encoder %s, decoder %s\n",
              grouped(embedding).c_str(), grouped(head).c_str(), grouped(encoder).c_str(),
              grouped(decoder).c_str());
  // fp32 values + gradients, then the optimizer's state per parameter.
  int64_t adafactor_state = 0;
  for (const ParamSpec& p : param_specs(config))
    adafactor_state += p.shape.size() == 2 ? p.shape[0] + p.shape[1] : shape_numel(p.shape);
  std::printf(
      "fp32 weights %.2f GiB, + gradients %.2f GiB, + Adafactor state %.3f GiB or AdamW "
      "state %.2f GiB (activations not included)\n",
      gib(4 * total), gib(4 * total), gib(4 * adafactor_state), gib(8 * total));
  if (tp != 1) {
    // A rank holds its shard of every split parameter and all of each replicated one.
    int64_t local = 0;
    try {
      local = flat_numel(config, {tp, 0});
    } catch (const std::invalid_argument& e) {
      throw UsageError("--tp " + std::to_string(tp) + ": " + e.what());
    }
    std::printf("per rank at TP %d: %s parameters, fp32 weights %.2f GiB + gradients %.2f GiB\n",
                tp, grouped(local).c_str(), gib(4 * local), gib(4 * local));
  }
  if (write_config) {
    std::ofstream out(*write_config);
    out << to_hf_config(config).dump(2) << '\n';
    if (!out) throw std::runtime_error(*write_config + ": cannot write");
  }
  return 0;
}

}  // namespace stilts::launch
