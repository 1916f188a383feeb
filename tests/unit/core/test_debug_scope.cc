// The debug mode names the layer where a NaN appears: every layer's forward and backward runs
// in a DebugScope with its Hugging Face name.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/model.h"
#include "kernels/debug_checks.h"
#include "kernels/ops.h"
#include "tests/unit/core/random_batch.h"

namespace stilts {
namespace {

// Turns the checks on for one test.
class DebugChecks {
 public:
  DebugChecks() { ops::set_debug_checks(true); }
  ~DebugChecks() { ops::set_debug_checks(false); }
};

// The message of the error a forward (and backward) with `poisoned` holding a NaN raises.
std::string nan_report(const std::string& poisoned) {
  const ModelConfig c = model_preset("test-tiny");
  Parameters params(c, Device::cpu);
  params.initialize(1);
  params.value(poisoned).data<float>()[0] = std::nanf("");
  params.refresh_compute_copy();
  Mt5Model model(params);
  DebugChecks on;
  try {
    model.forward(random_batch(c, 2, 7, 5, 3), {});
    model.backward();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DebugScope, ANanNamesItsLayer) {
  const ModelConfig c = model_preset("test-tiny");
  const std::string last = "decoder.block." + std::to_string(c.num_decoder_layers - 1);
  const struct {
    std::string poisoned, scope;
  } cases[] = {
      {last + ".layer.2.DenseReluDense.wo.weight", "decoder > " + last + ".layer.2"},
      {"encoder.block.0.layer.0.SelfAttention.q.weight", "encoder > encoder.block.0.layer.0"},
      {"shared.weight", "encoder.embed_tokens"},
      {"lm_head.weight", "lm_head"},
  };
  for (const auto& [poisoned, scope] : cases) {
    const std::string report = nan_report(poisoned);
    EXPECT_NE(report.find(" in " + scope + ": "), std::string::npos) << report;
  }
}

TEST(DebugScope, ACleanStepPassesTheChecks) {
  const ModelConfig c = model_preset("test-tiny");
  Parameters params(c, Device::cpu);
  params.initialize(2);
  Mt5Model model(params);
  DebugChecks on;
  EXPECT_NO_THROW({
    model.forward(random_batch(c, 2, 7, 5, 4), {});
    model.backward();
  });
}

}  // namespace
}  // namespace stilts
