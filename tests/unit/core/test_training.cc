#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "core/batch.h"
#include "core/optim/optimizer.h"
#include "core/optim/schedule.h"
#include "data/toy_task.h"

namespace stilts {
namespace {

TEST(Schedule, ShapesOfEveryKind) {
  ScheduleOptions constant{"constant", 1e-3f, 0, 100};
  EXPECT_FLOAT_EQ(learning_rate(constant, 1), 1e-3f);
  EXPECT_FLOAT_EQ(learning_rate(constant, 100), 1e-3f);

  ScheduleOptions warm{"constant", 1e-3f, 10, 100};
  EXPECT_FLOAT_EQ(learning_rate(warm, 5), 5e-4f);
  EXPECT_FLOAT_EQ(learning_rate(warm, 10), 1e-3f);
  EXPECT_FLOAT_EQ(learning_rate(warm, 50), 1e-3f);

  ScheduleOptions linear{"linear", 1e-3f, 10, 110};
  EXPECT_FLOAT_EQ(learning_rate(linear, 10), 1e-3f);
  EXPECT_FLOAT_EQ(learning_rate(linear, 60), 5e-4f);
  EXPECT_FLOAT_EQ(learning_rate(linear, 110), 0.0f);

  // T5's pre-training schedule: 1/sqrt(max(step, 10^4)).
  ScheduleOptions rsqrt{"rsqrt", 1.0f, 10000, 0};
  EXPECT_FLOAT_EQ(learning_rate(rsqrt, 1), 0.01f);
  EXPECT_FLOAT_EQ(learning_rate(rsqrt, 40000), 0.005f);

  ScheduleOptions relative{"relative", 0.0f, 0, 0};
  EXPECT_FLOAT_EQ(learning_rate(relative, 1), 0.01f);
  EXPECT_FLOAT_EQ(learning_rate(relative, 40000), 0.005f);
  ScheduleOptions relative_warm{"relative", 0.0f, 1, 0};
  EXPECT_FLOAT_EQ(learning_rate(relative_warm, 100), 1e-4f);
}

TEST(Schedule, BadOptionsNameTheOption) {
  ScheduleOptions bad{"cosine", 1e-3f, 0, 10};
  try {
    bad.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--schedule"), std::string::npos);
  }
  EXPECT_THROW((ScheduleOptions{"linear", 1e-3f, 10, 5}.validate()), std::invalid_argument);
  EXPECT_THROW((ScheduleOptions{"constant", -1.0f, 0, 5}.validate()), std::invalid_argument);
}

TEST(Batch, ShiftRightAndPadding) {
  Batch b = make_batch({{5, 6, 1}, {7, 1}}, {{8, 9, 1}, {4, 1}}, 0);
  EXPECT_EQ(b.input_len, 3);
  EXPECT_EQ(b.target_len, 3);
  EXPECT_EQ(b.input_ids, (std::vector<int32_t>{5, 6, 1, 7, 1, 0}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{8, 9, 1, 4, 1, kIgnoreIndex}));
  EXPECT_EQ(shift_right(b, 0, 0), (std::vector<int32_t>{0, 8, 9, 0, 4, 1}));
  EXPECT_EQ(b.target_tokens(), 5);
  EXPECT_THROW(b.validate(9, "batch"), std::invalid_argument);  // id 9 outside [0, 9)
  EXPECT_NO_THROW(b.validate(10, "batch"));
}

TEST(Optimizer, StateNamesFollowHuggingFace) {
  Parameters params(model_preset("test-tiny"), Device::cpu);
  OptimizerOptions adafactor;
  adafactor.momentum = 0.9f;
  auto state = make_optimizer(adafactor, params)->state();
  auto has = [&](const std::string& name) {
    for (const NamedTensor& t : state)
      if (t.name == name) return true;
    return false;
  };
  EXPECT_TRUE(has("shared.weight/exp_avg_sq_row"));
  EXPECT_TRUE(has("shared.weight/exp_avg_sq_col"));
  EXPECT_TRUE(has("encoder.final_layer_norm.weight/exp_avg_sq"));
  EXPECT_TRUE(has("lm_head.weight/exp_avg"));
  OptimizerOptions adamw;
  adamw.name = "adamw";
  EXPECT_EQ(make_optimizer(adamw, params)->state().size(), 2 * params.size());
  OptimizerOptions bad;
  bad.name = "sgd";
  EXPECT_THROW(make_optimizer(bad, params), std::invalid_argument);
}

TEST(Optimizer, StateCarriesTheSplitAxis) {
  Parameters params(model_preset("test-tiny"), Device::cpu);
  OptimizerOptions adafactor;
  adafactor.momentum = 0.9f;
  std::map<std::string, SplitAxis> split;
  for (const NamedTensor& t : make_optimizer(adafactor, params)->state()) split[t.name] = t.split;
  // Rows-split shared.weight: row statistic split, column statistic replicated; cols-split o:
  // the converse, its column statistic a vector split along its only dimension.
  EXPECT_EQ(split.at("shared.weight/exp_avg_sq_row"), SplitAxis::rows);
  EXPECT_EQ(split.at("shared.weight/exp_avg_sq_col"), SplitAxis::none);
  EXPECT_EQ(split.at("shared.weight/exp_avg"), SplitAxis::rows);
  const std::string o = "encoder.block.0.layer.0.SelfAttention.o.weight";
  EXPECT_EQ(split.at(o + "/exp_avg_sq_row"), SplitAxis::none);
  EXPECT_EQ(split.at(o + "/exp_avg_sq_col"), SplitAxis::rows);
  EXPECT_EQ(split.at(o + "/exp_avg"), SplitAxis::cols);
  EXPECT_EQ(split.at("encoder.final_layer_norm.weight/exp_avg_sq"), SplitAxis::none);
  OptimizerOptions adamw;
  adamw.name = "adamw";
  for (const NamedTensor& t : make_optimizer(adamw, params)->state())
    EXPECT_EQ(t.split, params.specs()[params.index_of(t.name.substr(0, t.name.find('/')))].split)
        << t.name;
}

TEST(Optimizer, RefusesGroupsThatDoNotFitTheParameters) {
  // A group of one for parameters sharded two ways, or cut into two ZeRO partitions.
  Parameters sharded(model_preset("test-small"), Device::cpu, TensorShard{2, 0});
  EXPECT_THROW(make_optimizer(OptimizerOptions{}, sharded), std::invalid_argument);
  EXPECT_THROW(clip_grad_norm(sharded, 1.0f), std::invalid_argument);
  Parameters partitioned(model_preset("test-tiny"), Device::cpu, TensorShard{}, 2);
  try {
    make_optimizer(OptimizerOptions{}, partitioned);
    FAIL() << "accepted 2 ZeRO partitions for a ZeRO group of one";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ZeRO"), std::string::npos) << e.what();
  }
}

TEST(ToyTask, ExamplesAreDeterministicPerIndex) {
  data::ToyTaskOptions o;
  o.kind = "reverse";
  o.seed = 4;
  data::ToyTask task(o);
  data::TextToTokens a = task.example(17), b = task.example(17), c = task.example(18);
  EXPECT_EQ(a.input, b.input);
  EXPECT_NE(a.input, c.input);
  ASSERT_EQ(a.input.size(), a.target.size());
  EXPECT_EQ(a.input.back(), 1);
  EXPECT_EQ(a.target.back(), 1);
  for (size_t i = 0; i + 1 < a.input.size(); ++i) {
    EXPECT_EQ(a.target[i], a.input[a.input.size() - 2 - i]);
    EXPECT_GE(a.input[i], 3);
    EXPECT_LT(a.input[i], 3 + 32);
  }
  o.num_tokens = 1000;
  EXPECT_THROW(o.validate(256), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
