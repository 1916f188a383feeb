// stilts export-hf: a stilts checkpoint becomes a Hugging Face model directory that
// transformers loads as it is.
#include <cstdio>

#include "core/checkpoint/checkpoint.h"
#include "core/checkpoint/hf_format.h"
#include "launch/commands/commands.h"
#include "launch/model_source.h"
#include "launch/options.h"

namespace stilts::launch {

int run_export_hf(int argc, char** argv) {
  std::string checkpoint, out, dtype_name;
  int64_t shard_mb = 0;
  bool force = false;
  po::options_description o("stilts export-hf");
  o.add_options()("checkpoint", po::value(&checkpoint)->required(),
                  "stilts checkpoint: a run directory (uses `latest`) or a step directory")(
      "out", po::value(&out)->required(), "Hugging Face model directory to write")(
      "dtype", po::value(&dtype_name)->default_value("f32"), "stored dtype: f32 | bf16 | f16")(
      "max-shard-mb", po::value(&shard_mb)->default_value(0),
      "split into shards of at most this many MiB with an index file (0 = one file)")(
      "force", po::bool_switch(&force), "replace an existing output directory");
  CommandSyntax syntax{"stilts export-hf CKPT_DIR --out HF_DIR", {}, {{"overwrite", "force"}}};
  syntax.positional.add("checkpoint", 1);
  ParsedCommand cmd = parse_command(syntax, o, argc, argv);
  if (cmd.help) return 0;
  DType dtype;
  if (dtype_name == "f32")
    dtype = DType::f32;
  else if (dtype_name == "bf16")
    dtype = DType::bf16;
  else if (dtype_name == "f16")
    dtype = DType::f16;
  else
    throw UsageError("--dtype: expected f32, bf16 or f16, got '" + dtype_name + "'");
  if (shard_mb < 0) throw UsageError("--max-shard-mb: must be >= 0");

  const std::string source = resolve_checkpoint(checkpoint);
  // Whole tensors at tp 1, whatever TP size saved the checkpoint: the loader gathers the
  // slices of every model-tpXX-of-YY.h5 file.
  std::unique_ptr<Parameters> params = load_model(source);
  save_hf_model(out, *params, dtype, shard_mb * 1024 * 1024, force);
  std::printf("exported %s to %s (%s)\n", source.c_str(), out.c_str(), dtype_name.c_str());
  return 0;
}

}  // namespace stilts::launch
