// Checkpoints of a TP=2 x DP=2 job under mpirun -np 4: every rank saves its files through
// save_checkpoint, with and without ZeRO-1 (each DP rank then passing only its part of the
// optimizer state), and every rank loads the result at TP 1, 2 and 4 (all shards, in-process)
// and compares exactly with the full tensors. A save in which one rank fails must fail on every
// rank and leave `latest` alone. Exits non-zero with a message on the first failure.
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint/checkpoint.h"
#include "parallel/grid.h"
#include "tests/mpi/mpi_checks.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;

const ModelConfig& config() {
  static const ModelConfig c = model_preset("test-small");  // splits over 1, 2 and 4
  return c;
}

// Distinct full-precision values, the same on every rank.
void fill(Tensor& t, uint64_t seed) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < t.numel(); ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    t.data<float>()[i] = static_cast<float>(static_cast<int32_t>(state >> 32)) * 0x1p-31f;
  }
}

std::unique_ptr<Parameters> shard_of(Parameters& full, TensorShard shard) {
  auto params = std::make_unique<Parameters>(config(), Device::cpu, shard);
  for (size_t i = 0; i < full.size(); ++i)
    extract_shard(full.value(i), full.specs()[i].split, shard, params->value(i));
  return params;
}

std::vector<NamedTensor> full_state(uint64_t seed) {
  std::vector<NamedTensor> state = {
      {"shared.weight/exp_avg", Tensor({256, 96}), SplitAxis::rows},
      {"encoder.block.0.layer.0.SelfAttention.q.weight/exp_avg_sq_row", Tensor({128}),
       SplitAxis::rows},
      {"encoder.block.0.layer.0.SelfAttention.q.weight/exp_avg_sq_col", Tensor({96}),
       SplitAxis::none},
      {"decoder.block.1.layer.2.DenseReluDense.wo.weight/exp_avg", Tensor({96, 192}),
       SplitAxis::cols},
      {"encoder.final_layer_norm.weight/exp_avg_sq", Tensor({96}), SplitAxis::none}};
  for (NamedTensor& s : state) fill(s.tensor, seed++);
  return state;
}

std::vector<NamedTensor> state_shard(const std::vector<NamedTensor>& full, TensorShard shard,
                                     bool values) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& s : full) {
    NamedTensor t{s.name, Tensor(shard_shape(s.tensor.shape(), s.split, shard)), s.split};
    if (values) extract_shard(s.tensor, s.split, shard, t.tensor);
    out.push_back(t);
  }
  return out;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

std::string shard_name(TensorShard s) {
  return "shard " + std::to_string(s.rank) + " of " + std::to_string(s.size);
}

void expect_loads(const std::string& step_dir, Parameters& full,
                  const std::vector<NamedTensor>& state, const std::string& what) {
  for (int tp : {1, 2, 4})
    for (int r = 0; r < tp; ++r) {
      const TensorShard shard{tp, r};
      auto expected = shard_of(full, shard);
      Parameters loaded(config(), Device::cpu, shard);
      load_checkpoint_params(step_dir, loaded);
      for (size_t i = 0; i < loaded.size(); ++i)
        expect(same(loaded.value(i), expected->value(i)),
               what + ": " + loaded.specs()[i].name + " loaded at " + shard_name(shard) +
                   " differs from the full tensor's slice");
      const std::vector<NamedTensor> expected_state = state_shard(state, shard, true);
      std::vector<NamedTensor> loaded_state = state_shard(state, shard, false);
      load_optimizer_state(step_dir, loaded_state, shard);
      for (size_t i = 0; i < state.size(); ++i)
        expect(same(loaded_state[i].tensor, expected_state[i].tensor),
               what + ": optimizer state " + state[i].name + " loaded at " + shard_name(shard) +
                   " differs from the full tensor's slice");
    }
}

// A directory every rank agrees on, removed by world rank 0 when the checks end.
class SharedTempDir {
 public:
  explicit SharedTempDir(Communicator& world) : root_(world.rank() == 0) {
    Tensor chars({256}, DType::i32);
    if (root_) {
      std::string pattern = (fs::temp_directory_path() / "stilts-mpi-ckpt-XXXXXX").string();
      if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
      for (size_t i = 0; i < pattern.size() && i < 255; ++i)
        chars.data<int32_t>()[i] = static_cast<unsigned char>(pattern[i]);
    }
    world.broadcast(chars, 0);
    for (int64_t i = 0; i < chars.numel() && chars.data<int32_t>()[i] != 0; ++i)
      path_ += static_cast<char>(chars.data<int32_t>()[i]);
  }
  SharedTempDir(const SharedTempDir&) = delete;
  SharedTempDir& operator=(const SharedTempDir&) = delete;
  ~SharedTempDir() {
    std::error_code ignored;
    if (root_) fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  bool root_;
  std::string path_;
};

void check_checkpoints(Communicator& world) {
  expect(world.size() == 4, "run with 4 ranks (TP 2 x DP 2)");
  const ProcessGrid grid(world.size(), world.rank(), 2);
  const ProcessGrid::Groups groups = grid.make_communicators(world);
  const int tp_rank = groups.tp->rank(), dp_rank = groups.dp->rank();
  expect(tp_rank == grid.tp_rank() && dp_rank == grid.dp_rank(), "grid and groups disagree");

  SharedTempDir tmp(world);
  Parameters full(config(), Device::cpu);
  fill(full.flat_values(), 7);
  auto local = shard_of(full, {2, tp_rank});

  for (const bool zero : {false, true}) {
    const std::string what = zero ? "with ZeRO-1" : "without ZeRO-1";
    const std::string run = tmp.path() + (zero ? "/zero" : "/plain");
    const std::vector<NamedTensor> state = full_state(zero ? 100 : 200);
    std::vector<NamedTensor> mine;
    const std::vector<NamedTensor> shard_state = state_shard(state, {2, tp_rank}, true);
    for (size_t i = 0; i < shard_state.size(); ++i)
      if (!zero || static_cast<int>(i % 2) == dp_rank) mine.push_back(shard_state[i]);

    const CheckpointGroup group{world, dp_rank, 2, zero};
    const std::string step_dir = save_checkpoint(
        run, 10, *local, mine, {{"step", 10}}, {{"model", model_config_to_json(config())}}, group);
    expect(step_dir == run + "/step-00000010", what + ": step directory " + step_dir);
    expect(resolve_checkpoint(run) == step_dir, what + ": latest does not name the save");
    const CheckpointLayout layout = read_checkpoint_layout(step_dir);
    expect(layout.tp == 2 && layout.dp == 2 && layout.zero == zero, what + ": layout.json");
    for (int t = 0; t < 2; ++t)
      for (int d = 0; d < 2; ++d)
        expect(
            fs::exists(step_dir + "/" + optimizer_shard_file(t, d)) == (zero || d == 0),
            what + ": " + optimizer_shard_file(t, d) + (zero || d == 0 ? " missing" : " written"));
    expect_loads(step_dir, full, state, what);
    world.barrier();  // every rank has read before the next save replaces anything
  }

  // A rank that cannot write (an i64 state tensor) fails the save on every rank.
  const std::string run = tmp.path() + "/zero";
  std::vector<NamedTensor> bad = state_shard(full_state(300), {2, tp_rank}, true);
  if (world.rank() == 3) bad.push_back({"counter", Tensor({1}, DType::i64), SplitAxis::none});
  std::string message;
  try {
    save_checkpoint(run, 20, *local, bad, {{"step", 20}}, {{"model", "x"}},
                    CheckpointGroup{world, dp_rank, 2, true});
  } catch (const std::exception& e) {
    message = e.what();
  }
  expect(!message.empty(),
         "a save in which rank 3 failed succeeded on rank " + std::to_string(world.rank()));
  const std::string wanted = world.rank() == 3 ? "counter" : "world rank(s) 3 failed";
  expect(message.find(wanted) != std::string::npos,
         "failed save: message '" + message + "' lacks '" + wanted + "'");
  world.barrier();
  expect(resolve_checkpoint(run) == run + "/step-00000010", "a failed save moved latest");
  expect(!fs::exists(run + "/step-00000020"), "a failed save left its step directory");
  for (const auto& e : fs::directory_iterator(run))
    expect(e.path().filename().string().find(".tmp") == std::string::npos,
           "a failed save left " + e.path().string());
  world.barrier();  // before rank 0 removes the directory
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  return stilts::run_checks(argc, argv, "mpi_checkpoint", stilts::check_checkpoints);
}
