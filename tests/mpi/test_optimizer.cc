// The optimizers under tensor parallelism and ZeRO-1 under mpirun: test-tiny's parameters (with
// 4 heads)
// sharded over the TP group (the whole world, and TP 2 x ZeRO 2 at 4 ranks) take 5 steps of
// Adafactor and AdamW with global-norm clipping from the same full gradients as a single-rank
// run of the whole model in the same process, and every rank's shards of the parameters it
// updates must match that run (the others stay untouched), as must its optimizer state, the
// gradient norm and the collectives the scheme predicts. Exits non-zero with a message on the
// first failure (and aborts the other ranks, which would otherwise wait).
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/optim/optimizer.h"
#include "core/params.h"
#include "core/tensor_shard.h"
#include "kernels/ops.h"
#include "parallel/counting_communicator.h"
#include "parallel/mpi_communicator.h"
#include "parallel/self_communicator.h"
#include "tests/mpi/mpi_checks.h"

namespace stilts {
namespace {

constexpr uint64_t kSeed = 1234;
constexpr int kSteps = 5;

// test-tiny with 4 heads instead of 3, so that its heads split over 2 and 4 ranks (the inner
// width, 256, is still not d_model).
ModelConfig test_config() {
  ModelConfig config = model_preset("test-tiny");
  config.num_heads = 4;
  return config;
}

// ||actual - expected|| / ||expected|| in double (0 when both are 0).
double relative_error(const Tensor& actual, const Tensor& expected) {
  double diff = 0.0, norm = 0.0;
  for (int64_t t = 0; t < expected.numel(); ++t) {
    const double e = expected.data<float>()[t], a = actual.data<float>()[t];
    diff += (a - e) * (a - e);
    norm += e * e;
  }
  return norm == 0.0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

// The largest value of x over the ranks of `comm`.
double max_over(Communicator& comm, double x) {
  Tensor t({1});
  t.data<float>()[0] = static_cast<float>(x);
  comm.all_reduce(t, ReduceOp::max);
  return t.data<float>()[0];
}

struct Setting {
  const char* name;
  OptimizerOptions options;
  float lr;
};

std::vector<Setting> settings() {
  OptimizerOptions t5;  // the T5 fine-tuning recipe
  OptimizerOptions scaled;
  scaled.scale_parameter = true;
  scaled.momentum = 0.9f;
  scaled.weight_decay = 0.01f;
  OptimizerOptions adamw;
  adamw.name = "adamw";
  adamw.weight_decay = 0.01f;
  return {{"adafactor", t5, 1e-2f},
          {"adafactor scale_parameter+momentum+weight_decay", scaled, 1e-2f},
          {"adamw", adamw, 1e-3f}};
}

struct Errors {
  double params = 0, updates = 0, state = 0, norm = 0;
};

// One setting on one layout: the single-rank run of the whole model and this rank's sharded
// run side by side.
Errors check_setting(const Setting& setting, CountingCommunicator& tp, CountingCommunicator& zero,
                     const std::string& layout) {
  const ModelConfig config = test_config();
  const TensorShard shard{tp.size(), tp.rank()};
  const std::string where = layout + ", " + setting.name + ", " + tp.name() + ": ";
  Parameters whole(config, Device::cpu);
  whole.initialize(kSeed);
  Parameters local(config, Device::cpu, shard, zero.size());
  for (size_t i = 0; i < whole.size(); ++i)
    extract_shard(whole.value(i), whole.specs()[i].split, shard, local.value(i));
  const Tensor initial = local.flat_values().clone();
  const Tensor whole_initial = whole.flat_values().clone();

  auto reference = make_optimizer(setting.options, whole);
  const OptimizerGroups groups{tp, zero};
  auto optimizer = make_optimizer(setting.options, local, groups);
  const bool adafactor = setting.options.name == "adafactor";
  bool updates_split = false;
  for (size_t i = 0; i < local.size(); ++i)
    updates_split |=
        updates_parameter(local, groups, i) && local.specs()[i].split != SplitAxis::none;

  Errors errors;
  for (int step = 1; step <= kSteps; ++step) {
    // Norms of about 3 (clipped to 1) on odd steps, of about 0.3 (not clipped) on even ones.
    const float std = step % 2 == 1 ? 1e-2f : 1e-3f;
    for (size_t i = 0; i < whole.size(); ++i) {
      ops::fill_normal(whole.grad(i), 0.0f, std, RngKey{kSeed, 1000 * i + step});
      extract_shard(whole.grad(i), whole.specs()[i].split, shard, local.grad(i));
    }
    const double want_norm = clip_grad_norm(whole, 1.0f);
    tp.reset();
    zero.reset();
    const double norm = clip_grad_norm(local, 1.0f, groups);
    expect(tp.total().calls == 1 && tp.count(Collective::all_reduce).bytes == 4,
           where + "clip_grad_norm issued " + std::to_string(tp.total().calls) +
               " collectives over tp, expected one all-reduce of one float");
    // A group of one (no ZeRO-1) moves nothing, and the counter leaves it out.
    const int64_t want_zero = zero.size() > 1 ? 1 : 0;
    expect(zero.total().calls == want_zero &&
               zero.count(Collective::all_reduce).bytes == 4 * want_zero,
           where + "clip_grad_norm issued " + std::to_string(zero.total().calls) +
               " collectives over zero, expected " + std::to_string(want_zero) +
               " all-reduce of one float");
    const double norm_error = std::abs(norm - want_norm) / want_norm;
    expect(norm_error <= 1e-5, where + "step " + std::to_string(step) + " grad norm " +
                                   std::to_string(norm) + " != " + std::to_string(want_norm));
    errors.norm = std::max(errors.norm, norm_error);

    reference->step(whole, setting.lr);
    tp.reset();
    zero.reset();
    optimizer->step(local, setting.lr);
    const int64_t want_calls = adafactor && updates_split ? 2 : 0;
    expect(tp.total().calls == want_calls && tp.count(Collective::all_reduce).calls == want_calls,
           where + "a step issued " + std::to_string(tp.total().calls) +
               " collectives over tp, expected " + std::to_string(want_calls) + " all-reduces");
    expect(zero.total().calls == 0, where + "a step issued collectives over zero");
  }

  // The parameters this rank updates against the whole run's, the others untouched.
  for (size_t i = 0; i < local.size(); ++i) {
    const ParamSpec& spec = local.specs()[i];
    const Tensor& value = local.value(i);
    const Tensor before =
        initial.slice(value.data<float>() - local.flat_values().data<float>(), value.shape());
    if (!updates_parameter(local, groups, i)) {
      for (int64_t t = 0; t < value.numel(); ++t)
        expect(value.data<float>()[t] == before.data<float>()[t],
               where + spec.name + " of another ZeRO partition changed");
      continue;
    }
    Tensor want(value.shape());
    extract_shard(whole.value(i), spec.split, shard, want);
    const double error = relative_error(value, want);
    expect(error <= 1e-5, where + spec.name + ": relative error " + std::to_string(error));
    errors.params = std::max(errors.params, error);
    // The updates alone, which the parameters' size would otherwise hide.
    Tensor update = value.clone(), want_update = want.clone();
    ops::add_inplace(update, before, -1.0f);
    Tensor whole_before(spec.shape), before_shard(value.shape());
    ops::copy(whole_initial.slice(whole.value(i).data<float>() - whole.flat_values().data<float>(),
                                  spec.shape),
              whole_before);
    extract_shard(whole_before, spec.split, shard, before_shard);
    ops::add_inplace(want_update, before_shard, -1.0f);
    const double update_error = relative_error(update, want_update);
    expect(update_error <= 1e-4,
           where + spec.name + ": relative error of the update " + std::to_string(update_error));
    errors.updates = std::max(errors.updates, update_error);
  }

  // The state: only the parameters this rank updates, each tensor the shard of the whole
  // run's along its split axis.
  std::map<std::string, NamedTensor> whole_state;
  for (const NamedTensor& t : reference->state()) whole_state[t.name] = t;
  size_t owned_state = 0;
  for (const NamedTensor& t : reference->state()) {
    const std::string param = t.name.substr(0, t.name.find('/'));
    owned_state += updates_parameter(local, groups, local.index_of(param));
  }
  const std::vector<NamedTensor> state = optimizer->state();
  expect(state.size() == owned_state, where + "state has " + std::to_string(state.size()) +
                                          " tensors, expected " + std::to_string(owned_state));
  for (const NamedTensor& t : state) {
    expect(whole_state.count(t.name) == 1, where + "unexpected state " + t.name);
    const NamedTensor& w = whole_state.at(t.name);
    const ParamSpec& spec = local.specs()[local.index_of(t.name.substr(0, t.name.find('/')))];
    // The split a state tensor must have: a moment's is its parameter's; the row statistic
    // is split with the rows, the column statistic (a vector) with the columns.
    SplitAxis want_split = spec.split;
    if (t.name.ends_with("_row"))
      want_split = spec.split == SplitAxis::rows ? SplitAxis::rows : SplitAxis::none;
    if (t.name.ends_with("_col"))
      want_split = spec.split == SplitAxis::cols ? SplitAxis::rows : SplitAxis::none;
    expect(t.split == want_split, where + t.name + " split " + split_axis_name(t.split) +
                                      ", expected " + split_axis_name(want_split));
    Tensor want(shard_shape(w.tensor.shape(), t.split, shard));
    expect(t.tensor.shape() == want.shape(),
           where + t.name + " is " + t.tensor.describe() + ", expected " + want.describe());
    extract_shard(w.tensor, t.split, shard, want);
    const double error = relative_error(t.tensor, want);
    expect(error <= 1e-5, where + t.name + ": relative error " + std::to_string(error));
    errors.state = std::max(errors.state, error);
  }
  return errors;
}

void check_layout(Communicator& world, std::unique_ptr<Communicator> tp_group,
                  std::unique_ptr<Communicator> zero_group, const std::string& layout) {
  CountingCommunicator tp(std::move(tp_group)), zero(std::move(zero_group));
  for (const Setting& setting : settings()) {
    const Errors e = check_setting(setting, tp, zero, layout);
    const double params = max_over(world, e.params), updates = max_over(world, e.updates),
                 state = max_over(world, e.state), norm = max_over(world, e.norm);
    if (world.rank() == 0)
      std::printf(
          "%s, %s: max relative error parameters %.3g, updates %.3g, state %.3g, grad norm "
          "%.3g\n",
          layout.c_str(), setting.name, params, updates, state, norm);
  }
}

void check_refusals(Communicator& world) {
  const ModelConfig config = test_config();
  auto tp = world.split(0, world.rank());
  Parameters sharded(config, Device::cpu, TensorShard{tp->size(), tp->rank()});
  auto single = std::make_unique<SelfCommunicator>();
  bool refused = false;
  try {
    make_optimizer(OptimizerOptions{}, sharded, OptimizerGroups{*single, *single});
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  expect(refused, "an optimizer over a TP group of one accepted parameters sharded " +
                      std::to_string(tp->size()) + " ways");
  Parameters partitioned(config, Device::cpu, TensorShard{tp->size(), tp->rank()}, 3);
  refused = false;
  try {
    make_optimizer(OptimizerOptions{}, partitioned, OptimizerGroups{*tp, *single});
  } catch (const std::invalid_argument& e) {
    refused = std::string(e.what()).find("ZeRO") != std::string::npos;
  }
  expect(refused, "an optimizer accepted 3 ZeRO partitions for a ZeRO group of one");
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  return stilts::run_checks(argc, argv, "optimizer", [](stilts::MpiCommunicator& world) {
    using stilts::check_layout;
    // One thread per rank: the ranks share this host's cores, and OpenMP workers spinning on
    // oversubscribed cores slow the run a hundredfold.
    stilts::ops::set_cpu_threads(1);
    const int rank = world.rank(), size = world.size();
    check_layout(world, world.split(0, rank), std::make_unique<stilts::SelfCommunicator>(),
                 "tp " + std::to_string(size));
    if (size == 4)  // tp_rank = rank % 2, dp_rank = rank / 2
      check_layout(world, world.split(rank / 2, rank), world.split(rank % 2, rank),
                   "tp 2 x zero 2");
    stilts::check_refusals(world);
  });
}
