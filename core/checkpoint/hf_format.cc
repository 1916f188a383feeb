#include "core/checkpoint/hf_format.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/checkpoint/file_io.h"
#include "core/checkpoint/safetensors.h"
#include "core/config_json.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kConfigFile = "config.json";
constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
// transformers' _keys_to_ignore_on_load_unexpected: cross-attention has no position bias.
constexpr const char* kIgnoredTensor =
    "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight";
constexpr const char* kSharedEmbedding = "shared.weight";
// Ties of shared.weight in transformers, often dropped from safetensors files.
constexpr const char* kTiedEmbeddings[] = {"encoder.embed_tokens.weight",
                                           "decoder.embed_tokens.weight"};

bool is_tied_embedding(const std::string& name) {
  for (const char* tied : kTiedEmbeddings)
    if (name == tied) return true;
  return false;
}

// The safetensors files of a model directory and which one holds each tensor.
struct WeightFiles {
  std::vector<SafetensorsFile> files;
  std::map<std::string, size_t> location;  // tensor name -> index into files

  const SafetensorsFile* find(const std::string& name) const {
    const auto it = location.find(name);
    return it == location.end() ? nullptr : &files[it->second];
  }
};

WeightFiles open_weights(const std::string& dir) {
  const std::string single = dir + "/" + kSingleFile, index = dir + "/" + kIndexFile;
  WeightFiles w;
  if (fs::exists(single)) {
    w.files.emplace_back(single);
    for (const SafetensorsEntry& e : w.files[0].entries()) w.location[e.name] = 0;
    return w;
  }
  if (!fs::exists(index))
    throw std::runtime_error(dir + ": has neither " + kSingleFile + " nor " + kIndexFile +
                             " (not a Hugging Face model directory?)");
  const json j = checkpoint_io::read_json_file(index);
  const auto weight_map = j.find("weight_map");
  if (!j.is_object() || weight_map == j.end() || !weight_map->is_object())
    throw std::runtime_error(index + ": no 'weight_map' object");
  std::map<std::string, size_t> file_ids;
  for (const auto& [name, file] : weight_map->items()) {
    const std::string shard = file.is_string() ? file.get<std::string>() : "";
    if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos)
      throw std::runtime_error(index + ": weight_map entry of '" + name + "' is " + file.dump() +
                               ", not a file name in " + dir);
    const auto [it, added] = file_ids.emplace(shard, w.files.size());
    if (added) w.files.emplace_back(dir + "/" + shard);
    w.location[name] = it->second;
  }
  // The index and the shards must agree, or a tensor could come from a stale shard unnoticed.
  for (size_t i = 0; i < w.files.size(); ++i)
    for (const SafetensorsEntry& e : w.files[i].entries())
      if (w.find(e.name) != &w.files[i])
        throw std::runtime_error(w.files[i].path() + ": holds tensor '" + e.name + "', which " +
                                 index + " does not list for this file");
  for (const auto& [name, i] : w.location)
    if (!w.files[i].contains(name))
      throw std::runtime_error(index + ": lists tensor '" + name + "' in " + w.files[i].path() +
                               ", which has no such tensor");
  return w;
}

void check_loadable(const SafetensorsFile& file, const std::string& name, const Shape& expected,
                    const ModelConfig& model) {
  const SafetensorsEntry& e = file.entry(name);
  if (e.shape != expected)
    throw std::runtime_error(file.path() + ": tensor " + name + " has shape " +
                             shape_string(e.shape) + ", expected " + shape_string(expected) +
                             " for " + model.shape_summary());
  if (e.dtype != "F32" && e.dtype != "BF16" && e.dtype != "F16")
    throw std::runtime_error(file.path() + ": tensor " + name + " has dtype " + e.dtype +
                             "; weights must be F32, BF16 or F16");
}

const char* torch_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float32";
    case DType::bf16:
      return "bfloat16";
    case DType::f16:
      return "float16";
    default:
      throw std::invalid_argument(std::string("Hugging Face weights are saved as f32, bf16 or "
                                              "f16, not ") +
                                  dtype_name(dtype));
  }
}

std::string shard_file_name(size_t number, size_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", number, count);
  return name;
}

}  // namespace

ModelConfig read_hf_config(const std::string& dir) {
  const std::string path = dir + "/" + kConfigFile;
  return from_hf_config(checkpoint_io::read_json_file(path), path);
}

void load_hf_weights(const std::string& dir, Parameters& params) {
  const ModelConfig& model = params.config();
  const ModelConfig stored = read_hf_config(dir);
  if (!stored.same_shape(model))
    throw std::runtime_error(dir + "/" + kConfigFile + ": describes a model of " +
                             stored.shape_summary() + ", expected " + model.shape_summary());
  const WeightFiles w = open_weights(dir);
  for (const auto& [name, i] : w.location)
    if (!params.contains(name) && name != kIgnoredTensor && !is_tied_embedding(name))
      throw std::runtime_error(w.files[i].path() + ": unexpected tensor " + name +
                               ", which is not a parameter of a model of " + model.shape_summary());

  const Shape& embedding_shape = params.specs()[params.index_of(kSharedEmbedding)].shape;
  for (const char* tied : kTiedEmbeddings)
    if (const SafetensorsFile* file = w.find(tied))
      check_loadable(*file, tied, embedding_shape, model);

  // Everything is checked before the first value is overwritten.
  struct Source {
    const SafetensorsFile* file;
    std::string name;
  };
  std::vector<Source> sources;
  for (const ParamSpec& spec : params.specs()) {
    Source s{w.find(spec.name), spec.name};
    if (spec.name == kSharedEmbedding)
      for (const char* tied : kTiedEmbeddings)
        if (!s.file) s = {w.find(tied), tied};
    if (!s.file)
      throw std::runtime_error(dir + ": tensor " + spec.name + " is missing (shape " +
                               shape_string(spec.shape) + " for " + model.shape_summary() + ")");
    check_loadable(*s.file, s.name, spec.shape, model);
    sources.push_back(s);
  }
  // A sharded process reads each full tensor, one at a time, and keeps its slice.
  const TensorShard shard = params.shard();
  for (size_t i = 0; i < sources.size(); ++i) {
    if (shard.size == 1) {
      sources[i].file->read_f32_into(sources[i].name, params.value(i));
      continue;
    }
    Tensor full(params.specs()[i].shape);
    sources[i].file->read_f32_into(sources[i].name, full);
    extract_shard(full, params.specs()[i].split, shard, params.value(i));
  }
}

void save_hf_model(const std::string& dir, const Parameters& params, DType dtype,
                   int64_t max_shard_bytes, bool overwrite) {
  if (params.shard().size != 1)
    throw std::invalid_argument(dir +
                                ": Hugging Face weights are whole tensors, but these "
                                "parameters are tensor-parallel shard " +
                                std::to_string(params.shard().rank) + " of " +
                                std::to_string(params.shard().size) +
                                " (load the checkpoint at tp 1 to gather them)");
  json config = to_hf_config(params.config());
  config["torch_dtype"] = torch_dtype_name(dtype);
  if (fs::exists(dir) && !(fs::is_directory(dir) && fs::is_empty(dir)) && !overwrite)
    throw std::runtime_error(dir + ": exists and is not empty; refusing to overwrite it");

  // Greedy in registry order, as transformers shards: a new shard starts when the next tensor
  // would push the current one past the limit.
  std::vector<std::vector<SafetensorsTensor>> shards(1);
  int64_t shard_bytes = 0, total_bytes = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor value = params.value(i);
    const auto bytes = static_cast<int64_t>(value.numel() * dtype_size(dtype));
    if (max_shard_bytes > 0 && !shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back({params.specs()[i].name, value, dtype});
    shard_bytes += bytes;
    total_bytes += bytes;
  }

  // transformers refuses to load safetensors files whose metadata lacks format "pt".
  const std::map<std::string, std::string> metadata{{"format", "pt"}};
  checkpoint_io::StagingDir staging(checkpoint_io::staging_path(dir, "tmp"));
  checkpoint_io::write_text_atomically(staging.file(kConfigFile), config.dump(2) + "\n");
  if (shards.size() == 1) {
    write_safetensors(staging.file(kSingleFile), shards[0], metadata);
  } else {
    json weight_map = json::object();
    for (size_t k = 0; k < shards.size(); ++k) {
      const std::string name = shard_file_name(k + 1, shards.size());
      write_safetensors(staging.file(name), shards[k], metadata);
      for (const SafetensorsTensor& t : shards[k]) weight_map[t.name] = name;
    }
    const json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
    checkpoint_io::write_text_atomically(staging.file(kIndexFile), index.dump(2) + "\n");
  }
  staging.commit(dir);
}

}  // namespace stilts
