// Tensor x data parallel training equals one rank: under mpirun, every layout of the world
// (TP x DP, with and without ZeRO-1) trains test-small from the same initialization on the
// same global batches as a single-rank run that every rank also performs in-process, and
// checks the loss and the gradients of the first step and the losses and parameters after 5
// Adafactor and 5 AdamW steps (dropout off) to 1e-5 relative. It also counts every collective
// of one step against a dry run of the layout.
//
// usage: mpi_parallel_training TP [TP ...]   (each TP runs with DP = world / TP, ZeRO-1 off
// and on)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/communication_plan.h"
#include "core/trainer.h"
#include "kernels/ops.h"
#include "parallel/counting_communicator.h"
#include "parallel/grid.h"
#include "tests/mpi/mpi_checks.h"

namespace stilts {
namespace {

constexpr int64_t kGlobalBatch = 8;
constexpr int kSteps = 5;
constexpr double kTolerance = 1e-5;

ModelConfig test_config() {
  ModelConfig c = model_preset("test-small");
  c.dropout_rate = 0.0;
  return c;
}

// Example i of step s: a random-length token sequence and a target of another length, so
// the global batch pads differently from its DP shares.
std::vector<int32_t> tokens(uint64_t key, int64_t length, int64_t vocab) {
  Tensor u({length});
  ops::fill_normal(u, 0.0f, 1.0f, RngKey{key, 99});
  std::vector<int32_t> out;
  for (int64_t i = 0; i < length; ++i)
    out.push_back(3 + static_cast<int32_t>(std::fabs(u.data<float>()[i]) * 1000.0f) %
                          static_cast<int32_t>(vocab - 3));
  out.push_back(1);
  return out;
}

Batch global_examples(int step, int64_t first, int64_t count, int64_t vocab) {
  std::vector<std::vector<int32_t>> inputs, labels;
  for (int64_t i = first; i < first + count; ++i) {
    const uint64_t key = static_cast<uint64_t>(step) * 1000 + static_cast<uint64_t>(i);
    inputs.push_back(tokens(2 * key, 3 + (i * 5 + step) % 11, vocab));
    labels.push_back(tokens(2 * key + 1, 2 + (i * 3 + step) % 7, vocab));
  }
  return make_batch(inputs, labels, 0);
}

Batch global_batch(int step, int64_t vocab) {
  return global_examples(step, 0, kGlobalBatch, vocab);
}
Batch dp_share(int step, int dp_rank, int dp, int64_t vocab) {
  const int64_t local = kGlobalBatch / dp;
  return global_examples(step, dp_rank * local, local, vocab);
}

double relative_error(const Tensor& got, const Tensor& want) {
  Tensor diff = got.clone();
  ops::add_inplace(diff, want, -1.0f);
  return std::sqrt(ops::sum_squares(diff) / std::max(ops::sum_squares(want), 1e-30));
}

// Compares this rank's shard of every parameter (those of owned_partition only when it is
// >= 0: ZeRO-1's gradients) with the single-rank tensors; returns the worst relative error.
double expect_shards(const std::string& what, Parameters& local, Parameters& full, bool grads,
                     int owned_partition) {
  double worst = 0;
  for (size_t i = 0; i < local.size(); ++i) {
    if (owned_partition >= 0 && local.partition_of(i) != owned_partition) continue;
    const ParamSpec& spec = local.specs()[i];
    Tensor want(local.value(i).shape());
    extract_shard(grads ? full.grad(i) : full.value(i), spec.split, local.shard(), want);
    const double e = relative_error(grads ? local.grad(i) : local.value(i), want);
    expect(e <= kTolerance, what + ": " + spec.name + " differs from one rank by " +
                                std::to_string(e) + " (relative)");
    worst = std::max(worst, e);
  }
  return worst;
}

struct Layout {
  int tp, dp;
  bool zero;
  std::string name() const {
    return "TP=" + std::to_string(tp) + " x DP=" + std::to_string(dp) + (zero ? " ZeRO-1" : "");
  }
};

TrainerOptions trainer_options(const std::string& optimizer) {
  TrainerOptions t;
  t.steps = kSteps;
  t.optimizer.name = optimizer;
  // Both optimizers divide gradients by their own running RMS (AdamW per element, Adafactor
  // per row and column), and on the first steps that RMS is the gradient itself: an element
  // whose gradient is rounding noise moves by about lr whatever its sign, so the rounding of
  // the parallel sums shows in the parameters in proportion to lr. Fine-tuning rates (the T5
  // recipe's 1e-3 for Adafactor, 1e-4 for AdamW) keep five steps within the tolerance.
  t.schedule.lr = optimizer == "adamw" ? 1e-4f : 1e-3f;
  t.clip_norm = optimizer == "adamw" ? 1.0f : 0.0f;
  t.log_every = 0;
  return t;
}

void check_layout(Communicator& world, const Layout& layout) {
  const ModelConfig config = test_config();
  const ProcessGrid grid(world.size(), world.rank(), layout.tp);
  grid.validate_model(config.num_heads, config.d_ff, config.vocab_size);
  ProcessGrid::Groups groups = grid.make_communicators(world);
  const TensorShard shard{grid.tp(), grid.tp_rank()};
  const int partitions = layout.zero ? grid.dp() : 1;
  const int owned = layout.zero ? grid.dp_rank() : -1;
  const TrainingGroups training{world, *groups.tp, *groups.dp, layout.zero};
  double worst_loss = 0, worst_grad = 0, worst_param = 0;

  // The first step's loss and gradients.
  {
    Parameters full(config, Device::cpu), local(config, Device::cpu, shard, partitions);
    full.initialize(7);
    local.initialize(7);
    Mt5Model reference(full);
    const HeadLoss want = reference.forward(global_batch(0, config.vocab_size), {});
    reference.backward();

    Mt5Model model(local, *groups.tp);
    HeadLoss got = model.forward(dp_share(0, grid.dp_rank(), grid.dp(), config.vocab_size), {});
    Tensor totals({2});
    totals.data<float>()[0] = static_cast<float>(got.loss_sum);
    totals.data<float>()[1] = static_cast<float>(got.tokens);
    groups.dp->all_reduce(totals);
    const float global_tokens = totals.data<float>()[1];
    expect(global_tokens == static_cast<float>(want.tokens),
           layout.name() + ": the DP shares hold " + std::to_string(global_tokens) +
               " target tokens, the global batch " + std::to_string(want.tokens));
    const double loss = totals.data<float>()[0] / global_tokens;
    worst_loss = std::max(worst_loss, std::fabs(loss - want.mean()) / std::fabs(want.mean()));
    expect(std::fabs(loss - want.mean()) <= kTolerance * std::fabs(want.mean()),
           layout.name() + ": first loss " + std::to_string(loss) + ", one rank " +
               std::to_string(want.mean()));
    model.backward(1.0f / global_tokens);
    GradientSync sync(*groups.dp);
    if (layout.zero)
      sync.reduce_scatter_gradients(local.flat_grads());
    else
      sync.all_reduce_gradients(local.flat_grads());
    worst_grad = expect_shards(layout.name() + " gradients", local, full, true, owned);
  }

  for (const std::string optimizer : {"adafactor", "adamw"}) {
    Parameters full(config, Device::cpu), local(config, Device::cpu, shard, partitions);
    full.initialize(7);
    local.initialize(7);
    Trainer reference(full, trainer_options(optimizer));
    Trainer trainer(local, trainer_options(optimizer), training);
    for (int step = 1; step <= kSteps; ++step) {
      const StepRecord want = reference.train_step(global_batch(step, config.vocab_size), true);
      const StepRecord got =
          trainer.train_step(dp_share(step, grid.dp_rank(), grid.dp(), config.vocab_size), true);
      const std::string where = layout.name() + " " + optimizer + " step " + std::to_string(step);
      worst_loss = std::max(worst_loss, std::fabs(got.loss - want.loss) / std::fabs(want.loss));
      expect(
          std::fabs(got.loss - want.loss) <= kTolerance * std::fabs(want.loss),
          where + ": loss " + std::to_string(got.loss) + ", one rank " + std::to_string(want.loss));
      expect(std::fabs(got.grad_norm - want.grad_norm) <= kTolerance * want.grad_norm,
             where + ": grad norm " + std::to_string(got.grad_norm) + ", one rank " +
                 std::to_string(want.grad_norm));
    }
    worst_param = std::max(
        worst_param, expect_shards(layout.name() + " " + optimizer + " parameters after 5 steps",
                                   local, full, false, -1));
  }
  // Rank 0's errors: the others' were checked against the same tolerance.
  if (world.rank() == 0)
    std::printf(
        "%s: equal to one rank (worst relative error: losses %.1e, first-step gradients %.1e, "
        "parameters after 5 Adafactor and 5 AdamW steps %.1e)\n",
        layout.name().c_str(), worst_loss, worst_grad, worst_param);
}

// One training step's collectives, counted in the real run, against a dry run of the same step
// in one process (core/communication_plan.h): the model's over the TP group, forward and
// backward, all of them all-reduces (the Megatron layout, parallel/README.md), and the
// gradient synchronization's over the DP group.
void check_collective_counts(Communicator& world, int tp) {
  const ModelConfig config = test_config();
  CountingCommunicator counting(MpiCommunicator::world());
  const ProcessGrid grid(world.size(), world.rank(), tp);
  ProcessGrid::Groups groups = grid.make_communicators(counting);
  auto& tp_group = dynamic_cast<CountingCommunicator&>(*groups.tp);
  auto& dp_group = dynamic_cast<CountingCommunicator&>(*groups.dp);
  Parameters params(config, Device::cpu, {grid.tp(), grid.tp_rank()});
  params.initialize(3);
  Mt5Model model(params, tp_group);
  const Batch batch = dp_share(0, grid.dp_rank(), grid.dp(), config.vocab_size);
  constexpr int64_t kBucketBytes = 64 << 10;
  const CommunicationPlan plan =
      plan_communication(config, {grid.tp(), grid.dp(), false, kBucketBytes}, batch.batch_size,
                         batch.input_len, batch.target_len);

  tp_group.reset();
  model.forward(batch, {});
  const CollectiveCount forward = tp_group.count(Collective::all_reduce);
  expect(tp_group.total().calls == forward.calls,
         "a collective other than all-reduce in the model's forward");
  tp_group.reset();
  model.backward();
  const CollectiveCount backward = tp_group.count(Collective::all_reduce);
  expect(tp_group.total().calls == backward.calls,
         "a collective other than all-reduce in the model's backward");
  const std::string at = "TP=" + std::to_string(tp) + ": ";
  const auto expect_plan = [&](const char* what, int64_t got, int64_t want) {
    expect(got == want,
           at + std::to_string(got) + " " + what + ", the dry run has " + std::to_string(want));
  };
  expect(forward.calls > 0 && backward.calls > 0, at + "no TP all-reduce in the model");
  expect_plan("forward all-reduces", forward.calls, plan.tp_forward.calls);
  expect_plan("forward bytes", forward.bytes, plan.tp_forward.bytes);
  expect_plan("backward all-reduces", backward.calls, plan.tp_backward.calls);
  expect_plan("backward bytes", backward.bytes, plan.tp_backward.bytes);

  // The gradient synchronization over DP: one all-reduce per bucket.
  dp_group.reset();
  GradientSync sync(dp_group, kBucketBytes);
  sync.all_reduce_gradients(params.flat_grads());
  const CollectiveCount dp_count = dp_group.count(Collective::all_reduce);
  expect_plan("DP all-reduces", dp_count.calls, plan.dp.calls);
  expect_plan("DP bytes", dp_count.bytes, plan.dp.bytes);
  if (world.rank() == 0)
    std::printf(
        "TP=%d: per step %lld forward + %lld backward TP all-reduces (%lld + %lld bytes), as the "
        "dry run has\n",
        tp, static_cast<long long>(forward.calls), static_cast<long long>(backward.calls),
        static_cast<long long>(forward.bytes), static_cast<long long>(backward.bytes));
}

}  // namespace
}  // namespace stilts

int main(int argc, char** argv) {
  std::vector<int> tps;
  for (int i = 1; i < argc; ++i) tps.push_back(std::atoi(argv[i]));
  return stilts::run_checks(argc, argv, "parallel training", [&](stilts::Communicator& world) {
    stilts::ops::set_cpu_threads(1);
    for (int tp : tps) {
      const int dp = world.size() / tp;
      stilts::check_layout(world, {tp, dp, false});
      if (dp > 1) stilts::check_layout(world, {tp, dp, true});
      if (tp > 1) stilts::check_collective_counts(world, tp);
    }
  });
}
