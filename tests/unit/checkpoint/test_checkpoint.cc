#include "core/checkpoint/checkpoint.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <set>

#include "tests/unit/checkpoint/test_util.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::fill_values;
using testing::message_of;
using testing::read_bytes;
using testing::same_values;
using testing::TempDir;
using testing::write_bytes;

std::unique_ptr<Parameters> make_params(const ModelConfig& config, uint64_t seed) {
  auto params = std::make_unique<Parameters>(config, Device::cpu);
  if (seed) fill_values(*params, seed);
  return params;
}

std::unique_ptr<Parameters> make_params(const std::string& preset, uint64_t seed) {
  return make_params(model_preset(preset), seed);
}

// Optimizer state with names an HDF5 path would split ('/') and the escape character itself.
std::vector<NamedTensor> optimizer_state(float base) {
  std::vector<NamedTensor> state = {
      {"shared.weight/row", Tensor({320}), SplitAxis::rows},
      {"encoder.block.0.layer.0.SelfAttention.q.weight/full", Tensor({192, 64})},
      {"odd%2Fname/with//slashes%", Tensor({3, 2})},
      {"scalar", Tensor(Shape{})}};
  for (NamedTensor& s : state)
    for (int64_t i = 0; i < s.tensor.numel(); ++i)
      s.tensor.data<float>()[i] = base + static_cast<float>(i) * 0.25f;
  return state;
}

std::vector<NamedTensor> zeroed_like(const std::vector<NamedTensor>& state) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& s : state) out.push_back({s.name, Tensor(s.tensor.shape()), s.split});
  return out;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

json run_config_for(const ModelConfig& config) {
  return {{"model", model_config_to_json(config)}, {"lr", 1e-3}, {"task", "xnli"}};
}

std::string save(const std::string& run_dir, int64_t step, const Parameters& params,
                 float optimizer_base = 1.0f) {
  return save_checkpoint(run_dir, step, params, optimizer_state(optimizer_base),
                         {{"step", step}, {"seed", 42}, {"data", {{"epoch", 1}, {"offset", 77}}}},
                         run_config_for(params.config()));
}

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp") != std::string::npos || name.find(".old-") != std::string::npos)
      names.push_back(name);
  }
  return names;
}

TEST(ModelConfigJson, EveryPresetRoundTrips) {
  for (const std::string& name : model_preset_names()) {
    const ModelConfig config = model_preset(name);
    EXPECT_EQ(model_config_from_json(model_config_to_json(config), "x"), config) << name;
  }
  ModelConfig custom = model_preset("test-small");
  custom.name = "my-model";
  custom.dropout_rate = 0.0f;
  custom.layer_norm_epsilon = 1e-5f;
  custom.num_decoder_layers = 3;
  const json j = json::parse(model_config_to_json(custom).dump());
  EXPECT_EQ(j.at("name"), "my-model");
  EXPECT_EQ(model_config_from_json(j, "x"), custom);
}

TEST(ModelConfigJson, ErrorsNameTheSourceAndTheKey) {
  const json good = model_config_to_json(model_preset("test-tiny"));
  json missing = good;
  missing.erase("d_ff");
  std::string message = message_of<std::invalid_argument>(
      [&] { (void)model_config_from_json(missing, "runs/a/config.json"); });
  EXPECT_CONTAINS(message, "runs/a/config.json");
  EXPECT_CONTAINS(message, "no key 'd_ff'");

  json wrong_type = good;
  wrong_type["num_heads"] = "3";
  message =
      message_of<std::invalid_argument>([&] { (void)model_config_from_json(wrong_type, "s"); });
  EXPECT_CONTAINS(message, "'num_heads'");

  json out_of_range = good;
  out_of_range["relative_attention_num_buckets"] = int64_t{1} << 40;
  message =
      message_of<std::invalid_argument>([&] { (void)model_config_from_json(out_of_range, "s"); });
  EXPECT_CONTAINS(message, "'relative_attention_num_buckets'");

  json invalid = good;
  invalid["d_model"] = 0;
  message =
      message_of<std::invalid_argument>([&] { (void)model_config_from_json(invalid, "src"); });
  EXPECT_CONTAINS(message, "src: model config: d_model must be positive");

  EXPECT_CONTAINS(message_of<std::invalid_argument>([&] { (void)model_config_from_json(5, "s"); }),
                  "not a JSON object");
}

TEST(Checkpoint, SaveLoadRoundTrip) {
  TempDir tmp;
  const std::string run = tmp / "run";  // created by the save
  auto saved = make_params("test-tiny", 21);
  const std::string step_dir = save(run, 100, *saved);
  EXPECT_EQ(step_dir, run + "/step-00000100");
  EXPECT_EQ(read_bytes(run + "/latest"), "step-00000100\n");
  EXPECT_EQ(resolve_checkpoint(run), step_dir);
  EXPECT_EQ(resolve_checkpoint(step_dir), step_dir);
  EXPECT_TRUE(leftovers(run).empty());

  auto loaded = make_params("test-tiny", 0);
  load_checkpoint_params(step_dir, *loaded);
  EXPECT_TRUE(same_values(*saved, *loaded));

  const std::vector<NamedTensor> expected = optimizer_state(1.0f);
  std::vector<NamedTensor> state = zeroed_like(expected);
  load_optimizer_state(step_dir, state);
  for (size_t i = 0; i < state.size(); ++i)
    EXPECT_TRUE(same_tensor(state[i].tensor, expected[i].tensor)) << state[i].name;

  const json trainer = read_trainer_state(step_dir);
  EXPECT_EQ(trainer.at("step"), 100);
  EXPECT_EQ(trainer.at("data").at("offset"), 77);
  const json config = read_checkpoint_run_config(step_dir);
  EXPECT_EQ(config, run_config_for(saved->config()));
  EXPECT_EQ(model_config_from_json(config.at("model"), "config"), saved->config());
}

std::string string_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  const hid_t type = H5Aget_type(attribute);
  std::string value(H5Tget_size(type), '\0');
  H5Aread(attribute, type, value.data());
  H5Tclose(type);
  H5Aclose(attribute);
  return value.substr(0, value.find('\0'));
}

Shape int_array_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  const hid_t space = H5Aget_space(attribute);
  Shape value(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  H5Aread(attribute, H5T_NATIVE_INT64, value.data());
  H5Sclose(space);
  H5Aclose(attribute);
  return value;
}

int64_t int_attribute(hid_t object, const char* name) {
  const hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  int64_t value = -1;
  H5Aread(attribute, H5T_NATIVE_INT64, &value);
  H5Aclose(attribute);
  return value;
}

// What a foreign reader (h5py, a future resharding loader) sees.
TEST(Checkpoint, Hdf5LayoutHasFlatHfNamesAndTensorParallelAttributes) {
  TempDir tmp;
  auto params = make_params("test-tiny", 22);
  const std::string step_dir = save(tmp.path(), 7, *params);
  const hid_t file =
      H5Fopen((step_dir + "/model-tp00-of-01.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  EXPECT_EQ(string_attribute(file, "format"), "stilts-checkpoint");
  EXPECT_EQ(int_attribute(file, "version"), 1);
  EXPECT_EQ(string_attribute(file, "model"), params->config().shape_summary());
  H5G_info_t info;
  H5Gget_info(file, &info);
  EXPECT_EQ(info.nlinks, params->size());
  for (const auto& [name, axis] : std::vector<std::pair<std::string, std::string>>{
           {"encoder.block.0.layer.0.SelfAttention.q.weight", "rows"},
           {"decoder.block.1.layer.1.EncDecAttention.o.weight", "cols"},
           {"encoder.final_layer_norm.weight", "none"},
           {"lm_head.weight", "rows"}}) {
    const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    ASSERT_GE(dataset, 0) << name;
    EXPECT_EQ(string_attribute(dataset, "split_axis"), axis) << name;
    EXPECT_EQ(int_attribute(dataset, "tp_rank"), 0);
    EXPECT_EQ(int_attribute(dataset, "tp_size"), 1);
    EXPECT_EQ(int_attribute(dataset, "offset"), 0);
    EXPECT_EQ(int_array_attribute(dataset, "full_shape"), params->value(name).shape());
    Tensor values(params->value(name).shape());
    H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.raw());
    EXPECT_TRUE(same_tensor(values, params->value(name))) << name;
    H5Dclose(dataset);
  }
  H5Fclose(file);

  const hid_t optimizer =
      H5Fopen((step_dir + "/optimizer-tp00-dp00.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(optimizer, 0);
  H5Gget_info(optimizer, &info);
  EXPECT_EQ(info.nlinks, 4u);  // no groups were created by the '/' in names
  EXPECT_GT(H5Lexists(optimizer, "shared.weight%2Frow", H5P_DEFAULT), 0);
  const hid_t row = H5Dopen2(optimizer, "shared.weight%2Frow", H5P_DEFAULT);
  EXPECT_EQ(string_attribute(row, "split_axis"), "rows");
  EXPECT_EQ(int_array_attribute(row, "full_shape"), Shape{320});
  H5Dclose(row);
  const hid_t scalar = H5Dopen2(optimizer, "scalar", H5P_DEFAULT);
  EXPECT_EQ(int_array_attribute(scalar, "full_shape"), Shape{});
  H5Dclose(scalar);
  H5Fclose(optimizer);

  EXPECT_EQ(json::parse(read_bytes(step_dir + "/layout.json")),
            json({{"format", "stilts-checkpoint"},
                  {"version", 2},
                  {"tp", 1},
                  {"dp", 1},
                  {"zero", false}}));
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(step_dir)) files.insert(e.path().filename());
  EXPECT_EQ(files,
            (std::set<std::string>{"layout.json", "model-tp00-of-01.h5", "optimizer-tp00-dp00.h5",
                                   "trainer.json", "config.json"}));
}

TEST(Checkpoint, LatestNamesTheNewestSaveAndLeftoversAreIgnored) {
  TempDir tmp;
  const std::string run = tmp.path();
  auto params = make_params("test-tiny", 23);
  save(run, 100, *params);
  const std::string second = save(run, 200, *params);
  EXPECT_EQ(resolve_checkpoint(run), second);

  // A crashed save: a staging directory with a partial model.h5 and no `latest` update.
  fs::create_directories(run + "/step-00000300.tmp-99999");
  write_bytes(run + "/step-00000300.tmp-99999/model.h5", "partial");
  EXPECT_EQ(resolve_checkpoint(run), second);
  write_bytes(run + "/latest.tmp", "step-00000300.tmp-99999\n");
  EXPECT_EQ(resolve_checkpoint(run), second);
}

TEST(Checkpoint, ResolveExplainsWhatIsWrong) {
  TempDir tmp;
  EXPECT_CONTAINS(message_of([&] { (void)resolve_checkpoint(tmp / "absent"); }),
                  "no such checkpoint directory");
  EXPECT_CONTAINS(message_of([&] { (void)resolve_checkpoint(tmp.path()); }),
                  "neither a run directory");

  auto params = make_params("test-tiny", 24);
  const std::string step_dir = save(tmp / "run", 5, *params);
  fs::remove(step_dir + "/trainer.json");
  std::string message = message_of([&] { (void)resolve_checkpoint(tmp / "run"); });
  EXPECT_CONTAINS(message, step_dir + " (named by " + tmp / "run/latest" + ")");
  EXPECT_CONTAINS(message, "trainer.json is missing");
  EXPECT_CONTAINS(message_of([&] { (void)resolve_checkpoint(step_dir); }), "incomplete");

  write_bytes(tmp / "run/latest", "../elsewhere\n");
  EXPECT_CONTAINS(message_of([&] { (void)resolve_checkpoint(tmp / "run"); }),
                  "not a step directory name");
}

TEST(Checkpoint, AnotherPresetIsRefusedAsAnotherModelShape) {
  TempDir tmp;
  auto tiny = make_params("test-tiny", 25);
  const std::string step_dir = save(tmp.path(), 1, *tiny);
  auto small = make_params("test-small", 0);
  const std::string message = message_of([&] { load_checkpoint_params(step_dir, *small); });
  EXPECT_CONTAINS(message, step_dir +
                               "/model-tp00-of-01.h5: tensor shared.weight has shape [320,64], "
                               "expected [256,96]");
  EXPECT_CONTAINS(message, "the checkpoint is of another model shape");
  EXPECT_CONTAINS(message, tiny->config().shape_summary());
  EXPECT_CONTAINS(message, small->config().shape_summary());
}

TEST(Checkpoint, MoreOrFewerLayersAreRefused) {
  TempDir tmp;
  ModelConfig deeper = model_preset("test-tiny");
  deeper.num_layers = 3;
  auto tiny = make_params("test-tiny", 26);
  auto deep = make_params(deeper, 27);
  const std::string tiny_dir = save(tmp / "tiny", 1, *tiny);
  const std::string deep_dir = save(tmp / "deep", 1, *deep);

  std::string message = message_of([&] { load_checkpoint_params(tiny_dir, *deep); });
  EXPECT_CONTAINS(message, "tensor encoder.block.2.layer.0.SelfAttention.q.weight is missing");
  EXPECT_CONTAINS(message, "another model shape");
  message = message_of([&] { load_checkpoint_params(deep_dir, *tiny); });
  EXPECT_CONTAINS(message, "holds tensor encoder.block.2.");
  EXPECT_CONTAINS(message, "another model shape");
  // Checked before anything was overwritten.
  auto fresh = make_params("test-tiny", 0);
  EXPECT_THROW(load_checkpoint_params(deep_dir, *fresh), std::runtime_error);
  EXPECT_EQ(fresh->value("shared.weight").data<float>()[0], 0.0f);
}

TEST(Checkpoint, TruncatedOrCorruptModelFileIsRefused) {
  TempDir tmp;
  auto params = make_params("test-tiny", 28);
  const std::string step_dir = save(tmp.path(), 1, *params);
  const std::string model = step_dir + "/model-tp00-of-01.h5";
  const std::string whole = read_bytes(model);
  for (size_t length : {whole.size() / 2, whole.size() - 1, size_t{100}, size_t{0}}) {
    write_bytes(model, whole.substr(0, length));
    auto loaded = make_params("test-tiny", 0);
    const std::string message = message_of([&] { load_checkpoint_params(step_dir, *loaded); });
    EXPECT_CONTAINS(message, model) << length;
    EXPECT_CONTAINS(message, "truncated or corrupt") << length;
  }
  write_bytes(model, std::string(whole.size(), 'x'));
  auto loaded = make_params("test-tiny", 0);
  EXPECT_CONTAINS(message_of([&] { load_checkpoint_params(step_dir, *loaded); }),
                  "not a readable HDF5 file");
}

TEST(Checkpoint, OptimizerStateMustMatchByNameAndShape) {
  TempDir tmp;
  auto params = make_params("test-tiny", 29);
  const std::string step_dir = save(tmp.path(), 1, *params);
  const std::string file = step_dir + "/optimizer-tp00-dp00.h5";

  std::vector<NamedTensor> state = zeroed_like(optimizer_state(0));
  state.push_back({"decoder.final_layer_norm.weight/full", Tensor({64})});
  std::string message = message_of([&] { load_optimizer_state(step_dir, state); });
  EXPECT_CONTAINS(message,
                  file + ": optimizer state decoder.final_layer_norm.weight/full is missing");

  state = zeroed_like(optimizer_state(0));
  state[0].tensor = Tensor({321});
  message = message_of([&] { load_optimizer_state(step_dir, state); });
  EXPECT_CONTAINS(message, "optimizer state shared.weight/row has shape [320], expected [321]");

  state = zeroed_like(optimizer_state(0));
  state[1].split = SplitAxis::cols;
  message = message_of([&] { load_optimizer_state(step_dir, state); });
  EXPECT_CONTAINS(message, "q.weight/full is split by none, expected cols");

  // A ZeRO-1 rank asks for its partition only; the rest of the file is someone else's.
  const std::vector<NamedTensor> expected = optimizer_state(1.0f);
  state = zeroed_like(expected);
  state.erase(state.begin());
  load_optimizer_state(step_dir, state);
  EXPECT_TRUE(same_tensor(state[0].tensor, expected[1].tensor));
}

TEST(Checkpoint, FailedSaveKeepsThePreviousStepAndLatest) {
  TempDir tmp;
  const std::string run = tmp.path();
  auto first = make_params("test-tiny", 30);
  const std::string step_dir = save(run, 100, *first);

  // An i64 optimizer tensor cannot be stored: the save fails half-way through writing.
  auto second = make_params("test-tiny", 31);
  std::vector<NamedTensor> bad = optimizer_state(2.0f);
  bad.push_back({"counter", Tensor({1}, DType::i64)});
  for (int64_t step : {100, 200}) {
    const std::string message = message_of<std::invalid_argument>([&] {
      save_checkpoint(run, step, *second, bad, {{"step", step}}, json::object());
    });
    EXPECT_CONTAINS(message, "counter");
    EXPECT_TRUE(leftovers(run).empty()) << leftovers(run).front();
    EXPECT_EQ(read_bytes(run + "/latest"), "step-00000100\n");
    EXPECT_FALSE(fs::exists(run + "/step-00000200"));
    auto loaded = make_params("test-tiny", 0);
    load_checkpoint_params(resolve_checkpoint(run), *loaded);
    EXPECT_TRUE(same_values(*first, *loaded));
  }
}

TEST(Checkpoint, SavingAStepAgainReplacesIt) {
  TempDir tmp;
  auto first = make_params("test-tiny", 32), second = make_params("test-tiny", 33);
  save(tmp.path(), 100, *first, 1.0f);
  const std::string step_dir = save(tmp.path(), 100, *second, 5.0f);
  auto loaded = make_params("test-tiny", 0);
  load_checkpoint_params(step_dir, *loaded);
  EXPECT_TRUE(same_values(*second, *loaded));
  std::vector<NamedTensor> state = zeroed_like(optimizer_state(0));
  load_optimizer_state(step_dir, state);
  EXPECT_EQ(state[0].tensor.data<float>()[0], 5.0f);
  EXPECT_TRUE(leftovers(tmp.path()).empty());
}

TEST(Checkpoint, StepOutsideTheNamingRangeIsRefused) {
  TempDir tmp;
  auto params = make_params("test-tiny", 0);
  EXPECT_THROW(save(tmp.path(), -1, *params), std::invalid_argument);
  EXPECT_THROW(save(tmp.path(), 100'000'000, *params), std::invalid_argument);
}

}  // namespace
}  // namespace stilts
