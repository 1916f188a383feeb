#include "core/checkpoint/hf_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "core/checkpoint/file_io.h"
#include "core/checkpoint/safetensors.h"
#include "tests/unit/checkpoint/test_util.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using testing::fill_values;
using testing::message_of;
using testing::read_bytes;
using testing::same_values;
using testing::TempDir;

std::unique_ptr<Parameters> make_params(const std::string& preset, uint64_t seed) {
  auto params = std::make_unique<Parameters>(model_preset(preset), Device::cpu);
  if (seed) fill_values(*params, seed);
  return params;
}

nlohmann::json read_json(const std::string& path) {
  return checkpoint_io::read_json_file(path);
}

// A model directory whose model.safetensors holds the registry tensors of `params` after
// `edit` (add, drop or replace entries), with the config.json save_hf_model writes.
std::string custom_model_dir(const TempDir& tmp, Parameters& params,
                             const std::function<void(std::map<std::string, Tensor>&)>& edit,
                             DType dtype = DType::f32) {
  const std::string dir = tmp / "custom";
  save_hf_model(dir, params, DType::f32, 0, true);
  std::map<std::string, Tensor> tensors;
  for (size_t i = 0; i < params.size(); ++i) tensors[params.specs()[i].name] = params.value(i);
  edit(tensors);
  std::vector<SafetensorsTensor> entries;
  for (const auto& [name, t] : tensors)
    entries.push_back({name, t, t.dtype() == DType::f32 ? dtype : t.dtype()});
  write_safetensors(dir + "/model.safetensors", entries, {{"format", "pt"}});
  return dir;
}

std::set<std::string> sibling_leftovers(const TempDir& tmp) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos)
      names.insert(name);
  }
  return names;
}

TEST(HfFormat, F32SaveLoadRoundTripIsBitIdentical) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 1);
  const std::string dir = tmp / "model";
  save_hf_model(dir, *saved);

  EXPECT_TRUE(fs::exists(dir + "/config.json"));
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors.index.json"));
  const nlohmann::json config = read_json(dir + "/config.json");
  EXPECT_EQ(config.at("torch_dtype"), "float32");
  EXPECT_EQ(config.at("tie_word_embeddings"), false);
  EXPECT_TRUE(read_hf_config(dir).same_shape(saved->config()));
  EXPECT_EQ(read_hf_config(dir).name, "test-tiny");

  const SafetensorsFile file(dir + "/model.safetensors");
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.entries().size(), saved->size());
  EXPECT_FALSE(file.contains("encoder.embed_tokens.weight"));
  EXPECT_FALSE(file.contains("decoder.embed_tokens.weight"));
  for (const SafetensorsEntry& e : file.entries()) EXPECT_EQ(e.dtype, "F32") << e.name;

  auto loaded = make_params("test-tiny", 0);
  load_hf_weights(dir, *loaded);
  EXPECT_TRUE(same_values(*saved, *loaded));
  EXPECT_TRUE(sibling_leftovers(tmp).empty());
}

TEST(HfFormat, HalfPrecisionSavesRoundEveryValue) {
  for (const auto& [dtype, torch_name] : std::vector<std::pair<DType, std::string>>{
           {DType::bf16, "bfloat16"}, {DType::f16, "float16"}}) {
    TempDir tmp;
    auto saved = make_params("test-tiny", 2);
    const std::string dir = tmp / "model";
    save_hf_model(dir, *saved, dtype);
    EXPECT_EQ(read_json(dir + "/config.json").at("torch_dtype"), torch_name);
    auto loaded = make_params("test-tiny", 0);
    load_hf_weights(dir, *loaded);
    const float* in = saved->flat_values().data<float>();
    const float* out = loaded->flat_values().data<float>();
    for (int64_t i = 0; i < saved->numel(); ++i) {
      const float expected =
          dtype == DType::bf16 ? bf16_to_f32(f32_to_bf16(in[i])) : f16_to_f32(f32_to_f16(in[i]));
      ASSERT_EQ(out[i], expected) << torch_name << " element " << i;
    }
  }
  auto params = make_params("test-tiny", 2);
  TempDir tmp;
  EXPECT_CONTAINS(
      message_of<std::invalid_argument>([&] { save_hf_model(tmp / "m", *params, DType::i64); }),
      "not i64");
  EXPECT_FALSE(fs::exists(tmp / "m"));
}

TEST(HfFormat, ShardedSaveWritesAnIndexAndLoads) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 3);
  const std::string dir = tmp / "sharded";
  const int64_t limit = 100'000;
  save_hf_model(dir, *saved, DType::f32, limit);

  EXPECT_FALSE(fs::exists(dir + "/model.safetensors"));
  const nlohmann::json index = read_json(dir + "/model.safetensors.index.json");
  EXPECT_EQ(index.at("metadata").at("total_size").get<int64_t>(), saved->numel() * 4);
  const nlohmann::json& weight_map = index.at("weight_map");
  EXPECT_EQ(weight_map.size(), saved->size());
  std::set<std::string> files;
  for (const auto& [name, file] : weight_map.items()) files.insert(file.get<std::string>());
  ASSERT_GE(files.size(), 3u);
  auto shard_name = [&](size_t number) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", number, files.size());
    return std::string(name);
  };
  EXPECT_TRUE(files.count(shard_name(1)));
  EXPECT_TRUE(files.count(shard_name(files.size())));
  for (const std::string& f : files) {
    const SafetensorsFile shard(dir + "/" + f);
    EXPECT_EQ(shard.metadata().at("format"), "pt");
    uint64_t bytes = 0;
    for (const SafetensorsEntry& e : shard.entries()) {
      EXPECT_EQ(weight_map.at(e.name), f);
      bytes += e.end - e.begin;
    }
    EXPECT_TRUE(bytes <= static_cast<uint64_t>(limit) || shard.entries().size() == 1) << f;
  }

  auto loaded = make_params("test-tiny", 0);
  load_hf_weights(dir, *loaded);
  EXPECT_TRUE(same_values(*saved, *loaded));

  // The index and the shards must agree.
  nlohmann::json stale = index;
  const std::string moved = "lm_head.weight";
  stale["weight_map"][moved] = shard_name(1);
  checkpoint_io::write_text_atomically(dir + "/model.safetensors.index.json", stale.dump());
  const std::string message = message_of([&] { load_hf_weights(dir, *loaded); });
  EXPECT_CONTAINS(message, moved);
  EXPECT_CONTAINS(message, "model.safetensors.index.json");
}

TEST(HfFormat, TiedEmbeddingCopiesAndTheIgnoredBiasAreAccepted) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 4);
  const Tensor shared = saved->value("shared.weight");
  const std::string dir = custom_model_dir(tmp, *saved, [&](auto& tensors) {
    tensors["encoder.embed_tokens.weight"] = shared;
    tensors["decoder.embed_tokens.weight"] = shared;
    tensors["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"] =
        Tensor({32, 3});
  });
  auto loaded = make_params("test-tiny", 0);
  load_hf_weights(dir, *loaded);
  EXPECT_TRUE(same_values(*saved, *loaded));
}

TEST(HfFormat, SharedFallsBackToEncoderEmbedTokens) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 5);
  const Tensor shared = saved->value("shared.weight");
  const std::string dir = custom_model_dir(tmp, *saved, [&](auto& tensors) {
    tensors.erase("shared.weight");
    tensors["encoder.embed_tokens.weight"] = shared;
  });
  auto loaded = make_params("test-tiny", 0);
  load_hf_weights(dir, *loaded);
  EXPECT_TRUE(same_values(*saved, *loaded));
}

TEST(HfFormat, TiedCopyOfAnotherShapeIsRefused) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 6);
  const std::string dir = custom_model_dir(tmp, *saved, [&](auto& tensors) {
    tensors["decoder.embed_tokens.weight"] = Tensor({10, 64});
  });
  auto loaded = make_params("test-tiny", 0);
  const std::string message = message_of([&] { load_hf_weights(dir, *loaded); });
  EXPECT_CONTAINS(message, "decoder.embed_tokens.weight has shape [10,64], expected [320,64]");
}

TEST(HfFormat, WrongShapeIsRefusedNamingTheTensor) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 7);
  const std::string name = "encoder.block.1.layer.1.DenseReluDense.wo.weight";
  const std::string dir = custom_model_dir(tmp, *saved, [&](auto& tensors) {
    tensors[name] = Tensor({64, 95});
  });
  auto loaded = make_params("test-tiny", 0);
  const std::string message = message_of([&] { load_hf_weights(dir, *loaded); });
  EXPECT_CONTAINS(message, dir + "/model.safetensors: tensor " + name +
                               " has shape [64,95], expected [64,96] for " +
                               loaded->config().shape_summary());
  // Checked before anything was overwritten.
  EXPECT_EQ(loaded->value("shared.weight").data<float>()[0], 0.0f);
}

TEST(HfFormat, MissingTensorIsRefused) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 8);
  const std::string dir =
      custom_model_dir(tmp, *saved, [&](auto& tensors) { tensors.erase("lm_head.weight"); });
  auto loaded = make_params("test-tiny", 0);
  const std::string message = message_of([&] { load_hf_weights(dir, *loaded); });
  EXPECT_CONTAINS(message, "tensor lm_head.weight is missing");
  EXPECT_EQ(loaded->value("shared.weight").data<float>()[0], 0.0f);
}

TEST(HfFormat, IntegerTensorIsRefused) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 9);
  const std::string name = "encoder.final_layer_norm.weight";
  const std::string dir = custom_model_dir(
      tmp, *saved, [&](auto& tensors) { tensors[name] = Tensor({64}, DType::i64); });
  auto loaded = make_params("test-tiny", 0);
  const std::string message = message_of([&] { load_hf_weights(dir, *loaded); });
  EXPECT_CONTAINS(message, "tensor " + name + " has dtype I64; weights must be F32, BF16 or F16");
}

TEST(HfFormat, UnexpectedTensorIsRefused) {
  TempDir tmp;
  auto saved = make_params("test-tiny", 10);
  const std::string name = "encoder.block.2.layer.0.SelfAttention.q.weight";
  const std::string dir = custom_model_dir(tmp, *saved, [&](auto& tensors) {
    tensors[name] = Tensor({192, 64});
  });
  auto loaded = make_params("test-tiny", 0);
  const std::string message = message_of([&] { load_hf_weights(dir, *loaded); });
  EXPECT_CONTAINS(message, "unexpected tensor " + name);
}

TEST(HfFormat, ConfigOfAnotherShapeIsRefused) {
  TempDir tmp;
  auto small = make_params("test-small", 11);
  save_hf_model(tmp / "small", *small);
  auto tiny = make_params("test-tiny", 0);
  const std::string message = message_of([&] { load_hf_weights(tmp / "small", *tiny); });
  EXPECT_CONTAINS(message, tmp / "small/config.json");
  EXPECT_CONTAINS(message, small->config().shape_summary());
  EXPECT_CONTAINS(message, tiny->config().shape_summary());
}

TEST(HfFormat, NotAModelDirectory) {
  TempDir tmp;
  auto params = make_params("test-tiny", 0);
  fs::create_directories(tmp / "empty");
  EXPECT_CONTAINS(message_of([&] { load_hf_weights(tmp / "empty", *params); }),
                  tmp / "empty/config.json");
  save_hf_model(tmp / "model", *params);
  fs::remove(tmp / "model/model.safetensors");
  EXPECT_CONTAINS(message_of([&] { load_hf_weights(tmp / "model", *params); }),
                  "has neither model.safetensors nor model.safetensors.index.json");
}

TEST(HfFormat, ExistingDirectoryIsReplacedOnlyWithOverwrite) {
  TempDir tmp;
  auto first = make_params("test-tiny", 12), second = make_params("test-tiny", 13);
  const std::string dir = tmp / "model";
  fs::create_directories(dir);  // an empty directory is fine
  save_hf_model(dir, *first);
  const std::string before = read_bytes(dir + "/model.safetensors");

  const std::string message = message_of([&] { save_hf_model(dir, *second); });
  EXPECT_CONTAINS(message, dir + ": exists and is not empty");
  EXPECT_EQ(read_bytes(dir + "/model.safetensors"), before);

  save_hf_model(dir, *second, DType::bf16, 0, true);
  EXPECT_EQ(read_json(dir + "/config.json").at("torch_dtype"), "bfloat16");
  EXPECT_NE(read_bytes(dir + "/model.safetensors"), before);
  // Replacing a sharded directory by a single-file one leaves no stale shard behind.
  save_hf_model(dir, *second, DType::f32, 100'000, true);
  save_hf_model(dir, *second, DType::f32, 0, true);
  EXPECT_FALSE(fs::exists(dir + "/model.safetensors.index.json"));
  auto loaded = make_params("test-tiny", 0);
  load_hf_weights(dir, *loaded);
  EXPECT_TRUE(same_values(*second, *loaded));
  EXPECT_TRUE(sibling_leftovers(tmp).empty());
}

}  // namespace
}  // namespace stilts
