// The MFU numerator against an independent count: every weight matrix of the parameter
// registry, 6 FLOPs per parameter per token that passes through it, plus the attention
// products counted by hand.
#include <gtest/gtest.h>

#include <string>

#include "core/config.h"
#include "core/flops.h"
#include "core/params.h"

namespace stilts {
namespace {

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

TEST(Flops, MatchesTheRegistryCountForEveryPreset) {
  const int64_t batch = 3, input_len = 20, target_len = 7;
  for (const char* preset : {"test-tiny", "mt5-small", "mt5-large"}) {
    const ModelConfig c = model_preset(preset);
    double matrices = 0;
    for (const ParamSpec& spec : param_specs(c)) {
      // Lookups (the shared embedding, the bias tables) and norms do no matrix products.
      if (spec.is_norm || spec.name == "shared.weight" ||
          contains(spec.name, "relative_attention_bias"))
        continue;
      const bool input_side = spec.name.starts_with("encoder.") ||
                              (contains(spec.name, "EncDecAttention") &&
                               (contains(spec.name, ".k.") || contains(spec.name, ".v.")));
      const double tokens = static_cast<double>(batch * (input_side ? input_len : target_len));
      matrices += 6 * tokens * static_cast<double>(shape_numel(spec.shape));
    }
    // Scores and context of every attention, forward 2 x 2 x B x H x Lq x Lk x d_kv, x 3.
    auto attention = [&](int64_t lq, int64_t lk) {
      return 3.0 * 4 * static_cast<double>(batch * c.num_heads * lq * lk * c.d_kv);
    };
    const double expected =
        matrices + static_cast<double>(c.num_layers) * attention(input_len, input_len) +
        static_cast<double>(c.num_decoder_layers) *
            (attention(target_len, target_len) + attention(target_len, input_len));
    EXPECT_DOUBLE_EQ(training_flops_per_step(c, batch, input_len, target_len), expected) << preset;
  }
}

TEST(Flops, Mt5LargeStepIsAboutSixTimesParametersTimesTokens) {
  // The usual 6 N T rule of thumb, with N the matrices' parameters, holds within the share of
  // the attention products and the split of tokens between the stacks.
  const ModelConfig c = model_preset("mt5-large");
  const double flops = training_flops_per_step(c, 8, 512, 512);
  const double rule = 6.0 * static_cast<double>(param_count(c)) * 8 * 512;
  EXPECT_GT(flops / rule, 0.7);
  EXPECT_LT(flops / rule, 1.3);
}

}  // namespace
}  // namespace stilts
