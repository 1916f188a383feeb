#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "core/params.h"

namespace stilts {
namespace {

TEST(Config, PresetParameterCountsMatchTheReferenceTable) {
  EXPECT_EQ(param_count(model_preset("mt5-small")), 300176768);
  EXPECT_EQ(param_count(model_preset("mt5-base")), 582401280);
  EXPECT_EQ(param_count(model_preset("mt5-large")), 1229581312);
  EXPECT_EQ(param_count(model_preset("mt5-xl")), 3742619648);
  EXPECT_EQ(param_count(model_preset("mt5-xxl")), 12921057280);
}

TEST(Config, TestPresetsKeepEveryStructuralFeature) {
  for (const char* name : {"test-tiny", "test-small"}) {
    ModelConfig c = model_preset(name);
    EXPECT_NE(c.inner_dim(), c.d_model) << name;
    EXPECT_GE(c.num_layers, 2) << name;
    EXPECT_GE(c.num_decoder_layers, 2) << name;
    EXPECT_GE(c.num_heads, 3) << name;
    EXPECT_GE(c.vocab_size, 200) << name;
    EXPECT_LE(c.vocab_size, 1000) << name;
  }
  EXPECT_EQ(model_preset("mt5-small").inner_dim(), 384);
}

TEST(Config, UnknownPresetNamesTheKnownOnes) {
  try {
    model_preset("mt5-huge");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mt5-huge"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("mt5-small"), std::string::npos);
  }
}

TEST(Config, HfConfigRoundTripsAndRefusesOtherArchitectures) {
  ModelConfig small = model_preset("mt5-small");
  nlohmann::json j = to_hf_config(small);
  EXPECT_EQ(j["feed_forward_proj"], "gated-gelu");
  EXPECT_EQ(j["tie_word_embeddings"], false);
  ModelConfig back = from_hf_config(j, "config.json");
  EXPECT_TRUE(back.same_shape(small));
  EXPECT_EQ(back.name, "mt5-small");

  nlohmann::json relu = j;
  relu["feed_forward_proj"] = "relu";
  EXPECT_THROW(from_hf_config(relu, "config.json"), std::invalid_argument);
  nlohmann::json tied = j;
  tied.erase("tie_word_embeddings");
  EXPECT_THROW(from_hf_config(tied, "config.json"), std::invalid_argument);
  nlohmann::json missing = j;
  missing.erase("d_model");
  try {
    from_hf_config(missing, "some/config.json");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("some/config.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("d_model"), std::string::npos);
  }
}

TEST(Params, RegistryUsesHuggingFaceNamesShapesAndSplitAxes) {
  ModelConfig c = model_preset("mt5-small");
  std::vector<ParamSpec> specs = param_specs(c);
  auto find = [&](const std::string& name) -> const ParamSpec& {
    for (const ParamSpec& p : specs)
      if (p.name == name) return p;
    throw std::runtime_error("missing " + name);
  };
  EXPECT_EQ(find("shared.weight").shape, (Shape{250112, 512}));
  EXPECT_EQ(find("lm_head.weight").shape, (Shape{250112, 512}));
  EXPECT_EQ(find("encoder.block.7.layer.0.SelfAttention.q.weight").shape, (Shape{384, 512}));
  EXPECT_EQ(find("encoder.block.7.layer.0.SelfAttention.o.weight").shape, (Shape{512, 384}));
  EXPECT_EQ(find("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").shape,
            (Shape{32, 6}));
  EXPECT_EQ(find("decoder.block.3.layer.1.EncDecAttention.k.weight").split, SplitAxis::rows);
  EXPECT_EQ(find("decoder.block.3.layer.2.DenseReluDense.wo.weight").split, SplitAxis::cols);
  EXPECT_EQ(find("decoder.block.3.layer.2.DenseReluDense.wi_1.weight").shape, (Shape{1024, 512}));
  EXPECT_EQ(find("decoder.final_layer_norm.weight").split, SplitAxis::none);
  // One bias table per stack, owned by block 0 and shared by every layer.
  std::vector<std::string> tables;
  for (const ParamSpec& p : specs)
    if (p.name.find("relative_attention_bias") != std::string::npos) tables.push_back(p.name);
  EXPECT_EQ(tables, (std::vector<std::string>{
                        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                        "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"}));
}

TEST(Params, InitializationIsDeterministicAndFollowsTheInitTable) {
  ModelConfig c = model_preset("test-tiny");
  Parameters a(c, Device::cpu), b(c, Device::cpu);
  a.initialize(7);
  b.initialize(7);
  ASSERT_EQ(a.numel(), param_count(c));
  EXPECT_EQ(0, std::memcmp(a.flat_values().raw(), b.flat_values().raw(), a.flat_values().nbytes()));
  const Tensor& norm = a.value("encoder.final_layer_norm.weight");
  for (int64_t i = 0; i < norm.numel(); ++i) EXPECT_EQ(norm.data<float>()[i], 1.0f);
  // shared.weight has std 1; q has std (d * d_kv)^-0.5 = 1/64.
  auto rms = [](const Tensor& t) {
    double s = 0;
    for (int64_t i = 0; i < t.numel(); ++i) s += double(t.data<float>()[i]) * t.data<float>()[i];
    return std::sqrt(s / double(t.numel()));
  };
  EXPECT_NEAR(rms(a.value("shared.weight")), 1.0, 0.05);
  EXPECT_NEAR(rms(a.value("encoder.block.1.layer.0.SelfAttention.q.weight")), 1.0 / 64, 0.002);
  Parameters other(c, Device::cpu);
  other.initialize(8);
  EXPECT_NE(
      0, std::memcmp(a.flat_values().raw(), other.flat_values().raw(), a.flat_values().nbytes()));
}

}  // namespace
}  // namespace stilts
