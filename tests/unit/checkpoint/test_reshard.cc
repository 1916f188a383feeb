// Checkpoints of tensor-parallel shards, written one shard at a time in one process (the files
// every rank of a TP x DP job would write), loaded at other TP sizes: each load must give
// exactly the slice of the full tensors that the loading shard holds.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/checkpoint/checkpoint.h"
#include "core/checkpoint/hf_format.h"
#include "tests/unit/checkpoint/test_util.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::fill_values;
using testing::message_of;
using testing::TempDir;

// test-small splits over 1, 2 and 4 ranks (4 heads, d_ff 192, vocabulary 256).
const ModelConfig& config() {
  static const ModelConfig c = model_preset("test-small");
  return c;
}

std::unique_ptr<Parameters> full_params(uint64_t seed) {
  auto params = std::make_unique<Parameters>(config(), Device::cpu);
  fill_values(*params, seed);
  return params;
}

std::unique_ptr<Parameters> shard_of(Parameters& full, TensorShard shard) {
  auto params = std::make_unique<Parameters>(config(), Device::cpu, shard);
  for (size_t i = 0; i < full.size(); ++i)
    extract_shard(full.value(i), full.specs()[i].split, shard, params->value(i));
  return params;
}

// Optimizer state of every split kind, full tensors.
std::vector<NamedTensor> full_state() {
  std::vector<NamedTensor> state = {
      {"encoder.block.0.layer.0.SelfAttention.q.weight/exp_avg", Tensor({128, 96}),
       SplitAxis::rows},
      {"encoder.block.0.layer.0.SelfAttention.q.weight/exp_avg_sq_row", Tensor({128}),
       SplitAxis::rows},
      {"encoder.block.0.layer.0.SelfAttention.q.weight/exp_avg_sq_col", Tensor({96}),
       SplitAxis::none},
      {"encoder.block.0.layer.0.SelfAttention.o.weight/exp_avg", Tensor({96, 128}),
       SplitAxis::cols},
      {"encoder.final_layer_norm.weight/exp_avg_sq", Tensor({96}), SplitAxis::none},
      {"step/scalar", Tensor(Shape{}), SplitAxis::none}};
  float value = 0.5f;
  for (NamedTensor& s : state)
    for (int64_t i = 0; i < s.tensor.numel(); ++i) s.tensor.data<float>()[i] = value += 0.125f;
  return state;
}

std::vector<NamedTensor> state_shard(const std::vector<NamedTensor>& full, TensorShard shard) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& s : full) {
    NamedTensor t{s.name, Tensor(shard_shape(s.tensor.shape(), s.split, shard)), s.split};
    extract_shard(s.tensor, s.split, shard, t.tensor);
    out.push_back(t);
  }
  return out;
}

std::vector<NamedTensor> zeroed_shard(const std::vector<NamedTensor>& full, TensorShard shard) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& s : full)
    out.push_back({s.name, Tensor(shard_shape(s.tensor.shape(), s.split, shard)), s.split});
  return out;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Writes the step directory of a tp x dp job into dir. With zero, DP rank d saves the state
// tensors i with i % dp == d (a disjoint partition), else every DP rank holds all of it.
void write_job(const std::string& dir, Parameters& full, const std::vector<NamedTensor>& state,
               int tp, int dp, bool zero) {
  fs::create_directories(dir);
  for (int t = 0; t < tp; ++t) {
    auto shard = shard_of(full, {tp, t});
    const std::vector<NamedTensor> local = state_shard(state, {tp, t});
    for (int d = 0; d < dp; ++d) {
      std::vector<NamedTensor> mine;
      for (size_t i = 0; i < local.size(); ++i)
        if (!zero || static_cast<int>(i % static_cast<size_t>(dp)) == d) mine.push_back(local[i]);
      write_checkpoint_shard(dir, *shard, mine, d, zero);
    }
  }
  write_checkpoint_metadata(dir, {tp, dp, zero, false}, {{"step", 3}},
                            {{"model", model_config_to_json(config())}});
}

// Loads dir at every shard of `tp` and compares with the slices of the full tensors.
void expect_loads_at(const std::string& dir, Parameters& full,
                     const std::vector<NamedTensor>& state, int tp) {
  for (int r = 0; r < tp; ++r) {
    const TensorShard shard{tp, r};
    auto expected = shard_of(full, shard);
    Parameters loaded(config(), Device::cpu, shard);
    load_checkpoint_params(dir, loaded);
    for (size_t i = 0; i < loaded.size(); ++i)
      EXPECT_TRUE(same_tensor(loaded.value(i), expected->value(i)))
          << loaded.specs()[i].name << " at shard " << r << " of " << tp;

    const std::vector<NamedTensor> expected_state = state_shard(state, shard);
    std::vector<NamedTensor> loaded_state = zeroed_shard(state, shard);
    load_optimizer_state(dir, loaded_state, shard);
    for (size_t i = 0; i < state.size(); ++i)
      EXPECT_TRUE(same_tensor(loaded_state[i].tensor, expected_state[i].tensor))
          << state[i].name << " at shard " << r << " of " << tp;
  }
}

TEST(Reshard, FileNames) {
  EXPECT_EQ(model_shard_file({4, 1}), "model-tp01-of-04.h5");
  EXPECT_EQ(optimizer_shard_file(1, 0), "optimizer-tp01-dp00.h5");
  EXPECT_EQ(optimizer_shard_file(3, 127), "optimizer-tp03-dp127.h5");
  const CheckpointLayout zero{2, 3, true, false};
  EXPECT_EQ(zero.model_files(),
            (std::vector<std::string>{"model-tp00-of-02.h5", "model-tp01-of-02.h5"}));
  EXPECT_EQ(zero.optimizer_files(1),
            (std::vector<std::string>{"optimizer-tp01-dp00.h5", "optimizer-tp01-dp01.h5",
                                      "optimizer-tp01-dp02.h5"}));
  EXPECT_EQ((CheckpointLayout{2, 3, false, false}.optimizer_files(1)),
            std::vector<std::string>{"optimizer-tp01-dp00.h5"});
}

TEST(Reshard, SavedAtTp2LoadsAtTp1Tp2AndTp4) {
  TempDir tmp;
  auto full = full_params(41);
  const std::vector<NamedTensor> state = full_state();
  const std::string dir = tmp / "step-00000003";
  write_job(dir, *full, state, 2, 1, false);
  EXPECT_EQ(resolve_checkpoint(dir), dir);
  const CheckpointLayout layout = read_checkpoint_layout(dir);
  EXPECT_EQ(layout.tp, 2);
  EXPECT_FALSE(layout.zero);
  for (int tp : {1, 2, 4}) expect_loads_at(dir, *full, state, tp);
}

TEST(Reshard, SavedAtTp4LoadsAtTp1AndTp2) {
  TempDir tmp;
  auto full = full_params(42);
  const std::vector<NamedTensor> state = full_state();
  write_job(tmp / "step", *full, state, 4, 1, false);
  for (int tp : {1, 2}) expect_loads_at(tmp / "step", *full, state, tp);
}

TEST(Reshard, ZeroPartitionsLoadWithoutZeroAndBack) {
  TempDir tmp;
  auto full = full_params(43);
  const std::vector<NamedTensor> state = full_state();
  // Saved with ZeRO-1 over 3 DP ranks: the state is spread over 6 files.
  write_job(tmp / "zero", *full, state, 2, 3, true);
  EXPECT_TRUE(fs::exists(tmp / "zero/optimizer-tp01-dp02.h5"));
  EXPECT_FALSE(fs::exists(tmp / "zero/model-tp00-of-03.h5"));
  for (int tp : {1, 2, 4}) expect_loads_at(tmp / "zero", *full, state, tp);
  // A ZeRO-1 rank of the loading run asks for its part only.
  std::vector<NamedTensor> part = zeroed_shard(state, {2, 1});
  part.erase(part.begin(), part.begin() + 3);
  load_optimizer_state(tmp / "zero", part, {2, 1});
  EXPECT_TRUE(same_tensor(part[0].tensor, state_shard(state, {2, 1})[3].tensor));

  // Saved without ZeRO-1 by 2 DP ranks: only DP rank 0 wrote.
  write_job(tmp / "plain", *full, state, 2, 2, false);
  EXPECT_FALSE(fs::exists(tmp / "plain/optimizer-tp00-dp01.h5"));
  expect_loads_at(tmp / "plain", *full, state, 4);
}

TEST(Reshard, MissingShardFileIsNamed) {
  TempDir tmp;
  auto full = full_params(44);
  const std::vector<NamedTensor> state = full_state();
  const std::string dir = tmp / "step";
  write_job(dir, *full, state, 2, 2, true);
  fs::remove(dir + "/model-tp01-of-02.h5");
  fs::remove(dir + "/optimizer-tp01-dp01.h5");
  EXPECT_CONTAINS(message_of([&] { (void)resolve_checkpoint(dir); }),
                  "incomplete checkpoint, model-tp01-of-02.h5 is missing");

  Parameters whole(config(), Device::cpu);
  std::string message = message_of([&] { load_checkpoint_params(dir, whole); });
  EXPECT_CONTAINS(message, dir + "/model-tp01-of-02.h5: no such file");
  // Shard 0 of 2 needs its own file only.
  Parameters first(config(), Device::cpu, {2, 0});
  load_checkpoint_params(dir, first);

  std::vector<NamedTensor> loaded = zeroed_shard(state, {1, 0});
  message = message_of([&] { load_optimizer_state(dir, loaded); });
  EXPECT_CONTAINS(message, dir + "/optimizer-tp01-dp01.h5: no such file");
}

TEST(Reshard, MissingTensorAndWrongShapeNameTheFileAndTensor) {
  TempDir tmp;
  auto full = full_params(45);
  const std::vector<NamedTensor> state = full_state();
  const std::string dir = tmp / "step";
  write_job(dir, *full, state, 2, 2, true);

  std::vector<NamedTensor> loaded = zeroed_shard(state, {4, 3});
  loaded.push_back({"decoder.final_layer_norm.weight/exp_avg_sq", Tensor({96}), SplitAxis::none});
  std::string message = message_of([&] { load_optimizer_state(dir, loaded, {4, 3}); });
  EXPECT_CONTAINS(message,
                  "optimizer-tp01-dp00.h5 ... optimizer-tp01-dp01.h5 (2 files): "
                  "optimizer state decoder.final_layer_norm.weight/exp_avg_sq is missing");

  loaded = zeroed_shard(state, {4, 3});
  loaded[1].tensor = Tensor({33});
  message = message_of([&] { load_optimizer_state(dir, loaded, {4, 3}); });
  EXPECT_CONTAINS(message,
                  "q.weight/exp_avg_sq_row has shape [128] (shard 3 of 4: [32]), "
                  "expected [33]");

  loaded = zeroed_shard(state, {4, 3});
  loaded[0].split = SplitAxis::cols;
  loaded[0].tensor = Tensor({128, 24});
  message = message_of([&] { load_optimizer_state(dir, loaded, {4, 3}); });
  EXPECT_CONTAINS(message,
                  "optimizer-tp01-dp00.h5: optimizer state "
                  "encoder.block.0.layer.0.SelfAttention.q.weight/exp_avg is split by "
                  "rows, expected cols");

  // Another model: the tensor is missing from the shard file, whose name the error gives.
  ModelConfig deeper = config();
  deeper.num_layers = 3;
  Parameters deep(deeper, Device::cpu, {4, 2});
  message = message_of([&] { load_checkpoint_params(dir, deep); });
  EXPECT_CONTAINS(message, dir +
                               "/model-tp01-of-02.h5: tensor "
                               "encoder.block.2.layer.0.SelfAttention.q.weight is missing");

  // A shard file of another checkpoint is noticed by its attributes.
  write_job(tmp / "tp4", *full, state, 4, 1, false);
  fs::copy_file(tmp / "tp4/model-tp00-of-04.h5", dir + "/model-tp01-of-02.h5",
                fs::copy_options::overwrite_existing);
  Parameters whole(config(), Device::cpu);
  message = message_of([&] { load_checkpoint_params(dir, whole); });
  EXPECT_CONTAINS(message,
                  "model-tp01-of-02.h5: tensor shared.weight is shard 0 of 4, "
                  "expected shard 1 of 2");
}

TEST(Reshard, SaveCheckpointOfOneRankWritesTheTp00Files) {
  TempDir tmp;
  auto full = full_params(46);
  const std::vector<NamedTensor> state = full_state();
  const std::string step_dir = save_checkpoint(tmp.path(), 5, *full, state, {{"step", 5}},
                                               {{"model", model_config_to_json(config())}});
  EXPECT_TRUE(fs::exists(step_dir + "/model-tp00-of-01.h5"));
  EXPECT_TRUE(fs::exists(step_dir + "/optimizer-tp00-dp00.h5"));
  for (int tp : {1, 2, 4}) expect_loads_at(step_dir, *full, state, tp);
}

TEST(Reshard, ASingleFileCheckpointStillLoads) {
  TempDir tmp;
  auto full = full_params(47);
  const std::vector<NamedTensor> state = full_state();
  const std::string step_dir = save_checkpoint(tmp.path(), 5, *full, state, {{"step", 5}},
                                               {{"model", model_config_to_json(config())}});
  fs::rename(step_dir + "/model-tp00-of-01.h5", step_dir + "/model.h5");
  fs::rename(step_dir + "/optimizer-tp00-dp00.h5", step_dir + "/optimizer.h5");
  fs::remove(step_dir + "/layout.json");
  EXPECT_EQ(resolve_checkpoint(tmp.path()), step_dir);
  EXPECT_TRUE(read_checkpoint_layout(step_dir).legacy);
  for (int tp : {1, 2}) expect_loads_at(step_dir, *full, state, tp);
}

// export-hf loads at tp 1 and saves: a checkpoint saved at tp 2 exports the same bytes.
TEST(Reshard, ExportOfATp2CheckpointEqualsTheTp1Export) {
  TempDir tmp;
  auto full = full_params(49);
  write_job(tmp / "tp2", *full, full_state(), 2, 2, true);
  Parameters gathered(config(), Device::cpu);
  load_checkpoint_params(tmp / "tp2", gathered);
  save_hf_model(tmp / "from-tp2", gathered, DType::bf16);
  save_hf_model(tmp / "from-full", *full, DType::bf16);
  EXPECT_EQ(testing::read_bytes(tmp / "from-tp2/model.safetensors"),
            testing::read_bytes(tmp / "from-full/model.safetensors"));
}

TEST(Reshard, HfWeightsLoadIntoShardsAndExportNeedsWholeTensors) {
  TempDir tmp;
  auto full = full_params(48);
  save_hf_model(tmp / "hf", *full);
  for (int tp : {2, 4})
    for (int r = 0; r < tp; ++r) {
      auto expected = shard_of(*full, {tp, r});
      Parameters loaded(config(), Device::cpu, {tp, r});
      load_hf_weights(tmp / "hf", loaded);
      for (size_t i = 0; i < loaded.size(); ++i)
        EXPECT_TRUE(same_tensor(loaded.value(i), expected->value(i))) << loaded.specs()[i].name;
    }
  auto shard = shard_of(*full, {2, 1});
  EXPECT_CONTAINS(message_of<std::invalid_argument>([&] { save_hf_model(tmp / "x", *shard); }),
                  "shard 1 of 2");
}

}  // namespace
}  // namespace stilts
